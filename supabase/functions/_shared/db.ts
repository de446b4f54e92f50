// One small postgres.js pool per isolate, and the per-request transaction that makes RLS apply:
// the verified claims go into `request.jwt.claims` and the role is switched, as PostgREST does.
import postgres from 'postgres';
import type { Claims } from './auth.ts';
import type { FunctionEnv } from './env.ts';
import { ApiError, ErrorCode } from './errors.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/**
 * Transactions in flight on one pool, and the requests waiting for one to end. postgres.js queues
 * a query with no limit when every connection is taken (five slow export readers hold all five),
 * so a request waits here instead, at most `timeoutMs`, and then answers 503 database_busy.
 */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number, private readonly timeoutMs: number) {}

  async enter(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(wake), 1);
        reject(new ApiError(503, ErrorCode.busy,
          `all ${this.max} database connections of this instance stayed busy for ${this.timeoutMs} ms; retry shortly`));
      }, this.timeoutMs);
      this.waiting.push(wake);
    });
  }

  /** Hands the slot to the next waiter, or frees it. */
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const gates = new WeakMap<Sql, Gate>();

export function createPool(env: Pick<FunctionEnv, 'dbUrl' | 'poolMax'> & { acquireTimeoutMs?: number }): Sql {
  if (!env.dbUrl) throw new Error('SUPABASE_DB_URL is not set');
  const sql = postgres(env.dbUrl, {
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
  gates.set(sql, new Gate(env.poolMax, env.acquireTimeoutMs ?? 1000));
  return sql;
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
  const run = () => sql.begin(async (tx) => {
    await tx`
      select set_config('request.jwt.claims', ${JSON.stringify(effective)}, true),
             set_config('role', ${effective.role}, true),
             set_config('statement_timeout', ${String(opts.statementTimeoutMs ?? 20_000)}, true)`;
    return await work(tx);
  }) as Promise<T>;
  const gate = gates.get(sql);
  if (!gate) return run();
  return gate.enter().then(() => run().finally(() => gate.leave()));
}
