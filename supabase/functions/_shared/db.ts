// One small postgres.js pool per isolate, and the per-request transaction that makes RLS apply:
// the verified claims and the actor go into `request.jwt.claims` and the role is switched to the
// functions' own (API_ROLE), as PostgREST does with the role a token names.
import postgres from 'postgres';
import { actorOf } from './actor.ts';
import type { Claims } from './auth.ts';
import type { FunctionEnv } from './env.ts';
import { ApiError, ErrorCode } from './errors.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
/** A piece of SQL to compose into a larger statement. */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;

/**
 * Transactions in flight on one pool, and the requests waiting for one to end. postgres.js queues
 * a query with no limit when every connection is taken (five slow export readers hold all five),
 * so a request waits here instead, and answers 503 database_busy once no connection has been freed
 * for `timeoutMs`. The wait is measured from the last freed connection, not from the request's
 * arrival: a queue that moves (many short transactions, e.g. 16 runners completing items at once)
 * is served in turn, while connections held by slow work fail the waiters fast.
 */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private lastFreed = performance.now();
  constructor(private readonly max: number, private readonly timeoutMs: number) {}

  async enter(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout>;
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const check = () => {
        const idle = performance.now() - Math.max(this.lastFreed, arrived);
        if (idle < this.timeoutMs) {
          timer = setTimeout(check, this.timeoutMs - idle);
          return;
        }
        this.waiting.splice(this.waiting.indexOf(wake), 1);
        reject(new ApiError(503, ErrorCode.busy,
          `all ${this.max} database connections of this instance stayed busy for ${this.timeoutMs} ms; retry shortly`));
      };
      const arrived = performance.now();
      timer = setTimeout(check, this.timeoutMs);
      this.waiting.push(wake);
    });
  }

  /** Hands the slot to the next waiter, or frees it. */
  leave(): void {
    this.lastFreed = performance.now();
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const gates = new WeakMap<Sql, Gate>();

export function createPool(env: Pick<FunctionEnv, 'dbUrl' | 'poolMax'> & { acquireTimeoutMs?: number }): Sql {
  if (!env.dbUrl) throw new Error('SUPABASE_DB_URL is not set');
  return pool(env.dbUrl, env.poolMax, env.acquireTimeoutMs, 'quantum-forge-functions');
}

/**
 * The pool on the read replica (SUPABASE_DB_READ_URL), or none: read-only routes then share the
 * primary's. Its own application_name shows in pg_stat_activity which connections read there.
 */
export function createReadPool(env: Pick<FunctionEnv, 'dbReadUrl' | 'poolMax'> & { acquireTimeoutMs?: number }): Sql | undefined {
  return env.dbReadUrl ? pool(env.dbReadUrl, env.poolMax, env.acquireTimeoutMs, 'quantum-forge-functions-read') : undefined;
}

function pool(url: string, max: number, acquireTimeoutMs: number | undefined, applicationName: string): Sql {
  const sql = postgres(url, {
    // Supavisor's transaction pooler cannot keep prepared statements between transactions.
    prepare: false,
    max,
    idle_timeout: 20,
    // Fail fast when the database is down, so callers get a 503 instead of a hang.
    connect_timeout: 3,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
  gates.set(sql, new Gate(max, acquireTimeoutMs ?? 1000));
  return sql;
}

/**
 * The database role the functions work as for a user (migration 20261126000101_api_role.sql). It
 * holds the grants and policies; `authenticated`, the role a user's token names on the Data API,
 * holds nothing, and PostgREST's login role cannot become this one.
 */
export const API_ROLE = 'qf_api';

/** Who a request acted for, once it did: the error handler names that user in its event. */
const actedFor = new WeakMap<Claims, string>();

export function userActedFor(claims: Claims): string | undefined {
  return claims.role === 'service_role' ? actedFor.get(claims) : claims.sub;
}

export interface CallerSession {
  role: string;
  claims: Record<string, unknown>;
}

/**
 * What one transaction runs as: the role to switch to and the claims to set. A user's token and
 * the service-role key acting for a user (`actAs`) run as API_ROLE, under RLS, marked so that SQL
 * can tell who really acted; the service-role key across users runs as service_role, which
 * bypasses it. The claims carry the actor (actor.ts) for the event triggers; the key fingerprint
 * travels only there.
 */
export function callerSession(claims: Claims, actAs?: string): CallerSession {
  const { key_fingerprint: _key, ...token } = claims;
  const actor = actorOf(claims, actAs);
  if (actAs) {
    actedFor.set(claims, actAs);
    return { role: API_ROLE, claims: { ...token, role: 'authenticated', sub: actAs, acting_service_role: true, actor } };
  }
  return { role: claims.role === 'authenticated' ? API_ROLE : claims.role, claims: { ...token, actor } };
}

/**
 * Makes the rest of the transaction run as `session`: `request.jwt.claims` and the role, as
 * PostgREST sets them, and the statement timeout (kept as it is when not given). The one place
 * this SQL is written; withCaller opens every transaction with it, and a service-role transaction
 * across users (all_users) calls it again to continue as the owner of the rows it found.
 */
export async function switchCaller(tx: Tx, session: CallerSession, statementTimeoutMs?: number): Promise<void> {
  const timeout = statementTimeoutMs === undefined ? null : String(statementTimeoutMs);
  await tx`
    select set_config('request.jwt.claims', ${JSON.stringify(session.claims)}, true),
           set_config('role', ${session.role}, true),
           set_config('statement_timeout', coalesce(${timeout}::text, current_setting('statement_timeout')), true)`;
}

/**
 * Runs `work` in one transaction as the caller (callerSession). When a service-role caller acts
 * for a user (`actAs`), the transaction runs as that user under RLS, so the same policies guard
 * trusted fleets too. Handlers reach it through the request middleware (`c.var.db`, request.ts),
 * never directly.
 */
export function withCaller<T>(
  sql: Sql,
  claims: Claims,
  work: (tx: Tx) => Promise<T>,
  opts: { actAs?: string; statementTimeoutMs?: number; readOnly?: boolean } = {},
): Promise<T> {
  const body = async (tx: Tx) => {
    await switchCaller(tx, callerSession(claims, opts.actAs), opts.statementTimeoutMs ?? 20_000);
    return await work(tx);
  };
  // A read-only transaction fails any write on the primary too, so a route that could not run on a
  // replica is caught by the tests that run without one.
  const run = () => (opts.readOnly ? sql.begin('read only', body) : sql.begin(body)) as Promise<T>;
  const gate = gates.get(sql);
  if (!gate) return run();
  return gate.enter().then(() => run().finally(() => gate.leave()));
}
