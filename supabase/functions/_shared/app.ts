// The app factory every function starts from: base path, CORS for browser clients, JSON errors for
// everything (including unknown routes and wrong methods), the per-isolate pool and token verifier,
// and routes mounted with their methods so that any other method on a path is a 405.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { createVerifier, type TokenVerifier } from './auth.ts';
import type { RequestEnv, RouteHandler } from './caller.ts';
import { createPool, createReadPool, type Sql } from './db.ts';
import { readEnv, type FunctionEnv } from './env.ts';
import { ErrorEventBudget, recordErrorEvent } from './error-events.ts';
import { ApiError, ErrorCode, jsonError, toErrorResponse } from './errors.ts';
import { unknownUserError } from './unknown-user.ts';

export interface Deps {
  env: FunctionEnv;
  sql: Sql;
  /** The read replica's pool, when SUPABASE_DB_READ_URL is set (read-only routes use it). */
  readSql?: Sql;
  verify: TokenVerifier;
}

let shared: Deps | undefined;

// When the database dies mid-write, postgres.js (under Deno) can throw from a socket callback
// (`socket.write` on a closed socket). That error belongs to one connection, which postgres.js
// drops and replaces; it must not end the isolate, or every later request would find no server.
// Requests in flight on that connection still fail, as CONNECTION_CLOSED, and get a 503.
let guarded = false;
function guardIsolate(): void {
  if (guarded || typeof globalThis.addEventListener !== 'function') return;
  guarded = true;
  globalThis.addEventListener('error', (event) => {
    console.error('uncaught error, isolate kept alive:', (event as ErrorEvent).error ?? (event as ErrorEvent).message);
    event.preventDefault();
  });
  globalThis.addEventListener('unhandledrejection', (event) => {
    console.error('unhandled rejection, isolate kept alive:', (event as PromiseRejectionEvent).reason);
    event.preventDefault();
  });
}

/** The isolate's dependencies, built on first use from the environment. */
export function defaultDeps(): Deps {
  if (!shared) {
    guardIsolate();
    const env = readEnv((name) => Deno.env.get(name));
    shared = { env, sql: createPool(env), readSql: createReadPool(env), verify: createVerifier(env) };
  }
  return shared;
}

/**
 * Browsers may call the functions from any origin (the dashboard on its own static host, a user's
 * notebook): every request carries its bearer token in a header, never a cookie, so an origin gains
 * nothing the token does not already give. Preflights are answered before authentication.
 */
const corsHeaders = cors({
  origin: '*',
  allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
  // Every header supabase-js sends (its own list: `corsHeaders` in '@supabase/supabase-js/cors'),
  // and x-region, which functions.invoke adds when a region is chosen.
  allowHeaders: [
    'authorization', 'x-client-info', 'apikey', 'content-type', 'x-retry-count',
    'traceparent', 'tracestate', 'baggage', 'x-region',
  ],
  exposeHeaders: ['x-next-cursor', 'content-disposition', 'etag'],
  maxAge: 86400,
});

/**
 * The function's app. Given the pool, failures that reach the error handler are also kept as
 * `error` events where that is safe (error-events.ts), after the response.
 */
export function createApp(name: string, deps?: Pick<Deps, 'sql'>) {
  const app = new Hono<RequestEnv>().basePath(`/${name}`);
  app.use('*', corsHeaders);
  const events = deps && { sql: deps.sql, budget: new ErrorEventBudget() };
  app.onError((err, c) => {
    const response = toErrorResponse(unknownUserError(err, c.get('claims')) ?? err);
    if (events) recordErrorEvent(events, name, c, err, response);
    return response;
  });
  app.notFound((c) => jsonError(404, ErrorCode.notFound, `no route ${c.req.method} ${new URL(c.req.url).pathname}`));
  return app;
}

/** Registered after a path's routes: any other method on it is a 405, not a 404. */
export function methodNotAllowed(allowed: string[]) {
  return () => {
    throw new ApiError(405, ErrorCode.methodNotAllowed, `method not allowed; use ${allowed.join(', ')}`);
  };
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Mounts each path's handlers by method, then a 405 for every other method on that path. */
export function mount(app: ReturnType<typeof createApp>, routes: Record<string, Partial<Record<Method, RouteHandler>>>): void {
  for (const [path, handlers] of Object.entries(routes)) {
    for (const [method, handler] of Object.entries(handlers)) app.on(method, path, handler);
    app.all(path, methodNotAllowed(Object.keys(handlers)));
  }
}
