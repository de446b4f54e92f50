// The app factory every function starts from: base path, CORS for browser clients, JSON errors for
// everything (including unknown routes and wrong methods), and the per-isolate pool and token verifier.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { createVerifier, type AuthEnv, type TokenVerifier } from './auth.ts';
import { createPool, type Sql } from './db.ts';
import { readEnv, type FunctionEnv } from './env.ts';
import { ApiError, ErrorCode, jsonError, toErrorResponse } from './errors.ts';

export interface Deps {
  env: FunctionEnv;
  sql: Sql;
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
    shared = { env, sql: createPool(env), verify: createVerifier(env) };
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
  exposeHeaders: ['x-next-cursor', 'content-disposition'],
  maxAge: 86400,
});

export function createApp(name: string) {
  const app = new Hono<AuthEnv>().basePath(`/${name}`);
  app.use('*', corsHeaders);
  app.onError((err) => toErrorResponse(err));
  app.notFound((c) => jsonError(404, ErrorCode.notFound, `no route ${c.req.method} ${new URL(c.req.url).pathname}`));
  return app;
}

/** Registered after a path's routes: any other method on it is a 405, not a 404. */
export function methodNotAllowed(allowed: string[]) {
  return () => {
    throw new ApiError(405, ErrorCode.methodNotAllowed, `method not allowed; use ${allowed.join(', ')}`);
  };
}
