// Where the runner claims from and as whom, read as the uploader reads it (process.env, then
// .local/stack.env). SUPABASE_ACCESS_TOKEN, when set, wins: a user's token claims and completes that
// user's items. Otherwise the service-role key claims across users (`all_users: true`). The health
// preflight and the client come from the uploader's connection module.
import type { ClientOptions, QfClient } from '../../shared/client.ts';
import { clientFor, jwtClaims, preflight, readSettings, UnreachableError, type Connection, type Env } from '../lib/connection.ts';
import { UsageError } from './args.ts';

export { preflight, UnreachableError, type Env };

export interface RunnerConnection extends Connection {
  /** Sent with every batches call: true with the service-role key. */
  allUsers: boolean;
}

/** `env` wins over `stackEnv` field by field. Throws UsageError when there is no URL or key. */
export function resolveRunnerConnection(env: Env, stackEnv: Env): RunnerConnection {
  const { url, token, serviceKey } = readSettings(env, stackEnv);
  if (token) {
    const claims = jwtClaims(token);
    if (claims?.role === 'service_role') return { url, key: token, mode: 'service_role', allUsers: true, owner: 'every user' };
    return { url, key: token, mode: 'user', allUsers: false, owner: claims?.sub ?? 'the token\'s user' };
  }
  if (!serviceKey) throw new UsageError('no key: set SUPABASE_ACCESS_TOKEN (a user\'s token) or SUPABASE_SERVICE_ROLE_KEY');
  return { url, key: serviceKey, mode: 'service_role', allUsers: true, owner: 'every user' };
}

export function runnerClient(conn: RunnerConnection, opts: ClientOptions = {}): QfClient {
  return clientFor(conn, opts);
}
