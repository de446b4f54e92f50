// GET /<function>/openapi.json: the function's part of the OpenAPI document, generated from the
// route registry (shared/api) on the first request and kept for the isolate's life. Registered
// before the auth middleware, so no token is needed: the document says what the routes are, not
// what is in them (the hosted functions run with verify_jwt = false, so the platform lets it through too).
import type { Hono } from 'hono';
import { openApiDocument } from '../../../shared/api/openapi-document.ts';
import { OPENAPI_PATH, type FunctionApi } from '../../../shared/api/route-table.ts';

// deno-lint-ignore no-explicit-any
export function serveOpenApi(app: Hono<any>, api: FunctionApi): void {
  let body: string | undefined;
  app.get(OPENAPI_PATH, (c) => {
    body ??= JSON.stringify(openApiDocument([api]));
    return c.body(body, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
  });
}
