// Failures that reach the error handler, kept as `error` events of the user they happened to,
// where that is safe. Which ones:
//   * 5xx answers other than 503 and 504: a bug or an unexpected database error. 4xx answers are
//     the caller's own mistakes, answered and not kept (a refused request changes nothing, events
//     included); 503 means the database is unreachable or overloaded, where a write would fail or
//     add load; 504 (query_timeout) is a query too broad for its time limit, which the caller
//     narrows, on a database that may be busy: as with 503, a write would only add load.
//   * of a known user: a user's token, or the service-role key once it acted for a user (or named
//     one in `user_id=`). Without a verified caller there is nobody to file it under.
//   * at most LIMIT_PER_MINUTE per user and isolate; the next one written counts those skipped.
// The write runs after the response, in its own short transaction as that user (so the actor is
// recorded as for any event), and its own failure is only logged: it never delays or changes the
// answer. The payload holds what the client was told, never the database's message.
import type { Context } from 'hono';
import { Uuid } from '../../../shared/contract/common.ts';
import type { Claims } from './auth.ts';
import type { RequestEnv } from './caller.ts';
import { userActedFor, withCaller, type Sql } from './db.ts';
import { isDatabaseUnavailable } from './errors.ts';

const LIMIT_PER_MINUTE = 20;

interface Window { start: number; written: number; skipped: number }

/** Per-user budget of error events in this isolate. */
export class ErrorEventBudget {
  private windows = new Map<string, Window>();
  constructor(private readonly limit = LIMIT_PER_MINUTE, private readonly now = () => Date.now()) {}

  /** Undefined when over budget; otherwise how many were skipped since the last one written. */
  take(user: string): { skipped: number } | undefined {
    const t = this.now();
    if (this.windows.size > 10_000) this.windows.clear();
    let w = this.windows.get(user);
    if (!w || t - w.start >= 60_000) {
      const skipped = w?.skipped ?? 0;
      w = { start: t, written: 0, skipped };
      this.windows.set(user, w);
    }
    if (w.written >= this.limit) {
      w.skipped++;
      return undefined;
    }
    w.written++;
    const skipped = w.skipped;
    w.skipped = 0;
    return { skipped };
  }
}

/** Whether a failure answered with `status` is kept as an event at all. */
export function isKeptFailure(err: unknown, status: number): boolean {
  return status >= 500 && status !== 503 && status !== 504 && !isDatabaseUnavailable(err);
}

function userOf(c: Context<RequestEnv>, claims: Claims): string | undefined {
  const user = userActedFor(claims);
  if (user) return user;
  const named = claims.role === 'service_role' ? c.req.query('user_id') : undefined;
  return named && Uuid.safeParse(named).success ? named : undefined;
}

/** Keeps runtime work alive after the response where the platform offers it (Supabase Edge Runtime). */
function afterResponse(work: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } }).EdgeRuntime;
  runtime?.waitUntil?.(work);
}

/**
 * Records `err`, answered with `response`, as an error event when it is kept (see the header).
 * Returns at once; the write, if any, continues in the background.
 */
export function recordErrorEvent(
  deps: { sql: Sql; budget: ErrorEventBudget },
  fn: string,
  c: Context<RequestEnv>,
  err: unknown,
  response: Response,
): void {
  if (!isKeptFailure(err, response.status)) return;
  const claims = c.get('claims') as Claims | undefined;
  if (!claims || (claims.role !== 'authenticated' && claims.role !== 'service_role')) return;
  const user = userOf(c, claims);
  if (!user) return;
  const allowance = deps.budget.take(user);
  if (!allowance) return;

  const work = (async () => {
    const body = await response.clone().json().catch(() => undefined) as
      { error?: { code?: string; message?: string } } | undefined;
    const sqlstate = (err as { code?: unknown })?.code;
    const payload = {
      function: fn,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: response.status,
      code: body?.error?.code ?? null,
      message: (body?.error?.message ?? '').slice(0, 500),
      sqlstate: typeof sqlstate === 'string' && /^[0-9A-Z]{5}$/.test(sqlstate) ? sqlstate : null,
      skipped_before: allowance.skipped || null,
    };
    await withCaller(deps.sql, claims, (tx) => tx`select public.log_error_event(${tx.json(payload)}::jsonb)`, {
      actAs: claims.role === 'service_role' ? user : undefined,
      statementTimeoutMs: 2_000,
    });
  })().catch((writeErr) => {
    console.error('error event not written:', (writeErr as { code?: string })?.code ?? String(writeErr));
  });
  afterResponse(work);
}
