// Where the uploader and the runner send, and as whom. The environment is injected (process.env, then
// .local/stack.env): SUPABASE_ACCESS_TOKEN uploads as the token's user; otherwise the service-role
// key uploads as --user-id. A preflight call to `health` turns an unreachable server, a refused key
// or a database without its tables into exit 2 before any job is read.
import { QfApiError, QfClient, type ClientOptions } from '../../shared/client.ts';
import type { HealthResponse } from '../../shared/contract/health.ts';
import { nodeSupabase } from './supabase.ts';
import { UsageError } from './usage-error.ts';

export type Env = Record<string, string | undefined>;

export interface Connection {
  url: string;
  key: string;
  /** `user`: a user's access token; `service_role`: the service-role key acting as `userId`. */
  mode: 'user' | 'service_role';
  /** Sent as `user_id` with the service-role key; undefined for a user token (the server takes its sub). */
  userId?: string;
  /** Whose rows these are, for messages. */
  owner: string;
}

/** The server cannot be used: exit 2. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** The claims of a JWT, read without verifying it (the server verifies); null when it is not a JWT. */
export function jwtClaims(token: string): { role?: string; sub?: string } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * The URL and the keys on offer: `env` wins over `stackEnv` field by field, and the access token is
 * read from `env` only (.local/stack.env holds no user's token). Throws UsageError without a URL.
 */
export function readSettings(env: Env, stackEnv: Env): { url: string; token?: string; serviceKey?: string } {
  const pick = (name: string) => env[name] || stackEnv[name] || undefined;
  const url = pick('SUPABASE_URL');
  if (!url) throw new UsageError('no SUPABASE_URL: set it (and a key), or run `npm start` to write .local/stack.env');
  return { url, token: env.SUPABASE_ACCESS_TOKEN || undefined, serviceKey: pick('SUPABASE_SERVICE_ROLE_KEY') };
}

/** The uploader's connection. Throws UsageError when the pieces do not fit together. */
export function resolveConnection(userIdArg: string | undefined, env: Env, stackEnv: Env): Connection {
  const { url, token, serviceKey } = readSettings(env, stackEnv);
  if (token) {
    const claims = jwtClaims(token);
    if (claims?.role === 'service_role') {
      if (!userIdArg) throw new UsageError('--user-id is required with the service-role key (SUPABASE_ACCESS_TOKEN is a service-role key)');
      return { url, key: token, mode: 'service_role', userId: userIdArg, owner: userIdArg };
    }
    const sub = claims?.sub;
    if (userIdArg && sub && userIdArg !== sub.toLowerCase()) {
      throw new UsageError(`--user-id ${userIdArg} is not the user of SUPABASE_ACCESS_TOKEN (${sub}); a user token uploads only its own rows`);
    }
    return { url, key: token, mode: 'user', owner: sub ?? 'the token\'s user' };
  }
  if (!serviceKey) {
    throw new UsageError('no key: set SUPABASE_ACCESS_TOKEN (a user\'s token) or SUPABASE_SERVICE_ROLE_KEY with --user-id');
  }
  if (!userIdArg) throw new UsageError('--user-id is required with the service-role key (or set SUPABASE_ACCESS_TOKEN instead)');
  return { url, key: serviceKey, mode: 'service_role', userId: userIdArg, owner: userIdArg };
}

export function clientFor(conn: Connection, opts: ClientOptions = {}): QfClient {
  return new QfClient(nodeSupabase(conn.url, conn.key), opts);
}

/** No answer at all: on a developer's machine that is almost always a stack that is not running. */
export function notReachable(url: string): string {
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(url);
  return `the stack is not reachable at ${url}: ` +
    (local ? 'start it with `npm start` (it writes .local/stack.env), or set SUPABASE_URL to a running one'
      : 'check SUPABASE_URL and the network (for the local stack, start it with `npm start`)');
}

interface Health {
  status: string;
  database?: { all_tables_present?: boolean; tables?: Record<string, boolean>; error?: string };
}

/**
 * A 503 in words, by what the body says: the error code of the error shape (auth_unavailable: the
 * server could not fetch the keys that check tokens; database_unavailable), or health's own answer
 * (its database unreachable); anything else is named with its status and code as given.
 */
export function unavailable(url: string, err: QfApiError): string {
  const body = err.body as { error?: { code?: string }; database?: Health['database'] & { reachable?: boolean } } | undefined;
  const code = body?.error?.code;
  if (code === 'auth_unavailable') {
    return `${url}: the server cannot check keys right now, its auth signing keys could not be fetched (HTTP 503 auth_unavailable): ${err.message}`;
  }
  if (code === 'database_unavailable' || body?.database?.reachable === false) {
    const why = body?.database?.error ?? err.message;
    return `${url}: the database is unavailable (HTTP 503${code ? ` ${code}` : ''}): ${why}`;
  }
  return `${url}/functions/v1/health answered HTTP 503${code ? ` ${code}` : ' without an error code'}: ${err.message}`;
}

/** One `health` call, retried briefly. Throws UnreachableError with a one-line reason. */
export async function preflight(conn: Connection, opts: ClientOptions = {}): Promise<void> {
  const client = clientFor(conn, { attempts: 6, backoffMs: 300, ...opts });
  let health: HealthResponse;
  try {
    health = await client.call<HealthResponse>('health', { method: 'GET' });
  } catch (err) {
    if (!(err instanceof QfApiError) || err.status === 0) throw new UnreachableError(notReachable(conn.url));
    if (err.status === 401 || err.status === 403) throw new UnreachableError(`${conn.url} refused the key (HTTP ${err.status}): ${err.message}`);
    if (err.status === 503) throw new UnreachableError(unavailable(conn.url, err));
    throw new UnreachableError(`${conn.url}/functions/v1/health answered HTTP ${err.status}: ${err.message}`);
  }
  if (health?.database && health.database.all_tables_present === false) {
    const missing = Object.entries(health.database.tables ?? {}).filter(([, ok]) => !ok).map(([t]) => t);
    throw new UnreachableError(`${conn.url}: the database has no ${missing.join(', ') || 'tables'} yet (migrations not applied?)`);
  }
}
