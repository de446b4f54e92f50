// Open exports per user, per instance (EXPORTS_PER_USER, 2 by default). An export streams from a
// server-side cursor and keeps its database connection for as long as its reader takes: a reader
// that stops reading holds it until the platform ends the request. Five such readers of one user
// held every connection of an instance (DB_POOL_MAX, 5), and every other user's request then
// waited for a 503 database_busy. Beyond the quota, an export answers 429 quota_exceeded with a
// Retry-After header, so one user's slow readers leave the other connections to everybody else.
// A slot is taken before the export runs and given back when its response body has been read to
// the end, has failed, or was cancelled by the client.
import type { MiddlewareHandler } from 'hono';
import type { RequestEnv } from './caller.ts';
import { ApiError, ErrorCode } from './errors.ts';

/** What a refused export is told to wait, in seconds: about what a short export takes. */
export const EXPORT_RETRY_AFTER_S = 5;

/** Who the quota counts: the token's user, or the service-role key by the user it names. */
function quotaKey(c: Parameters<MiddlewareHandler<RequestEnv>>[0]): string {
  const claims = c.var.claims;
  return claims.role === 'service_role' ? `service_role:${c.req.query('user_id') ?? ''}` : `user:${claims.sub}`;
}

/** The body of `res`, calling `done` once when it ends, fails or is cancelled. */
function onBodyEnd(res: Response, done: () => void): Response {
  if (!res.body) {
    done();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          done();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        done();
        controller.error(err);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Middleware for the export route, after `caller` (it needs the claims). */
export function exportSlots(perUser: number): MiddlewareHandler<RequestEnv> {
  const open = new Map<string, number>();
  return async (c, next) => {
    const key = quotaKey(c);
    const held = open.get(key) ?? 0;
    if (held >= perUser) {
      throw new ApiError(429, ErrorCode.quotaExceeded,
        `${held} exports of this user are still open on this instance, the most EXPORTS_PER_USER allows; ` +
          'read or close one first, or retry after the time in Retry-After',
        undefined, { 'retry-after': String(EXPORT_RETRY_AFTER_S) });
    }
    open.set(key, held + 1);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    };
    try {
      await next();
    } catch (err) {
      free();
      throw err;
    }
    c.res = onBodyEnd(c.res, free);
  };
}
