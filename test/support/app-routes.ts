// Runs under Deno (test/foundation/openapi-routes.test.ts spawns it): imports every function's
// app.ts, exactly as the functions router does, and prints the method and path of each route its
// Hono app registers, as JSON `{ "<function>": ["GET /query/stats", …] }`. Middleware and the 405
// catch-alls are registered for ALL methods and are left out. With EXTRA_ROUTE="<function> <METHOD>
// <path>" (the path under the function's base path), that route is first added to that app, so the
// test can show that it would notice one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type HonoLike = { routes: { method: string; path: string }[]; on(method: string, path: string, h: () => Response): void };
// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno;
const functionsDir = fileURLToPath(new URL('../../supabase/functions/', import.meta.url));
const [extraFn, extraMethod, extraPath] = (deno.env.get('EXTRA_ROUTE') ?? '').split(' ');

const out: Record<string, string[]> = {};
for await (const entry of deno.readDir(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
  const { app } = (await import(join(functionsDir, entry.name, 'app.ts'))) as { app: HonoLike };
  if (entry.name === extraFn) app.on(extraMethod, extraPath, () => new Response(null));
  out[entry.name] = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
}
console.log(JSON.stringify(out));
deno.exit(0);
