// One small postgres.js pool per isolate, and the per-request transaction that makes RLS apply:
// the verified claims go into `request.jwt.claims` and the role is switched, as PostgREST does.
import postgres from 'postgres';
import type { Claims } from './auth.ts';
import type { FunctionEnv } from './env.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** A piece of SQL to compose into a larger statement. */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;

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
 * The claims a transaction runs with: the caller's own, or, when a service-role caller acts for a
 * user (`actAs`), that user's under RLS, marked so that SQL can tell who really acted.
 */
export function effectiveClaims(claims: Claims, actAs?: string): Claims {
  return actAs ? { ...claims, role: 'authenticated', sub: actAs, acting_service_role: true } : claims;
}

/**
 * Makes the rest of the transaction run as `claims`: `request.jwt.claims` and the role, as
 * PostgREST sets them, and the statement timeout (kept as it is when not given). The one place
 * this SQL is written; withCaller opens every transaction with it, and a service-role transaction
 * across users (all_users) calls it again to continue as the owner of the rows it found.
 */
export async function switchCaller(tx: Tx, claims: Claims, statementTimeoutMs?: number): Promise<void> {
  const timeout = statementTimeoutMs === undefined ? null : String(statementTimeoutMs);
  await tx`
    select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
           set_config('role', ${claims.role}, true),
           set_config('statement_timeout', coalesce(${timeout}::text, current_setting('statement_timeout')), true)`;
}

/**
 * Runs `work` in one transaction as the caller. A user token runs as `authenticated`, the anon key
 * as `anon`, and the service-role key as `service_role` (which bypasses RLS). When a service-role
 * caller acts for a user (`actAs`), the transaction runs as that user under RLS instead, so the
 * same policies guard trusted fleets too. Handlers reach it through the request middleware
 * (`c.var.db`, request.ts), never directly.
 */
export function withCaller<T>(
  sql: Sql,
  claims: Claims,
  work: (tx: Tx) => Promise<T>,
  opts: { actAs?: string; statementTimeoutMs?: number } = {},
): Promise<T> {
  return sql.begin(async (tx) => {
    await switchCaller(tx, effectiveClaims(claims, opts.actAs), opts.statementTimeoutMs ?? 20_000);
    return await work(tx);
  }) as Promise<T>;
}
