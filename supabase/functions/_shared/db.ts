// One small postgres.js pool per isolate, and the per-request transaction that makes RLS apply:
// the verified claims go into `request.jwt.claims` and the role is switched, as PostgREST does.
import postgres from 'postgres';
import type { Claims } from './auth.ts';
import type { FunctionEnv } from './env.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export function createPool(env: Pick<FunctionEnv, 'dbUrl' | 'poolMax'>): Sql {
  if (!env.dbUrl) throw new Error('SUPABASE_DB_URL is not set');
  return postgres(env.dbUrl, {
    // Supavisor's transaction pooler cannot keep prepared statements between transactions.
    prepare: false,
    max: env.poolMax,
    idle_timeout: 20,
    // Fail fast when the database is down, so callers get a 503 instead of a hang.
    connect_timeout: 3,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: { application_name: 'quantum-forge-functions' },
  });
}

/**
 * Runs `work` in one transaction as the caller. A user token runs as `authenticated`, the anon key
 * as `anon`, and the service-role key as `service_role` (which bypasses RLS). When a service-role
 * caller acts for a user (`actAs`), the transaction runs as that user under RLS instead, so the
 * same policies guard trusted fleets too.
 */
export function withCaller<T>(
  sql: Sql,
  claims: Claims,
  work: (tx: Tx) => Promise<T>,
  opts: { actAs?: string; statementTimeoutMs?: number } = {},
): Promise<T> {
  const effective: Claims = opts.actAs
    ? { ...claims, role: 'authenticated', sub: opts.actAs, acting_service_role: true }
    : claims;
  return sql.begin(async (tx) => {
    await tx`
      select set_config('request.jwt.claims', ${JSON.stringify(effective)}, true),
             set_config('role', ${effective.role}, true),
             set_config('statement_timeout', ${String(opts.statementTimeoutMs ?? 20_000)}, true)`;
    return await work(tx);
  }) as Promise<T>;
}
