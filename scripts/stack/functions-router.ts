// Runs under Deno, not Node. Serves every function in supabase/functions/* at
// /functions/v1/<name>, the URL shape of a Supabase project, in one process: each function's
// exported Hono app (its app.ts, which its index.ts hands to Deno.serve on the platform) receives
// the request with the /functions/v1 prefix removed, as the edge runtime delivers it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Fetch = (req: Request) => Response | Promise<Response>;

const functionsDir = fileURLToPath(new URL('../../supabase/functions/', import.meta.url));
const port = Number(Deno.env.get('FUNCTIONS_PORT') ?? 54321);
const hostname = Deno.env.get('FUNCTIONS_HOST') ?? '127.0.0.1';

const apps = new Map<string, Fetch>();
for await (const entry of Deno.readDir(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
  const appFile = join(functionsDir, entry.name, 'app.ts');
  try {
    await Deno.stat(appFile);
  } catch {
    console.error(`skipping ${entry.name}: it has no app.ts exporting its Hono app`);
    continue;
  }
  const mod = await import(appFile);
  apps.set(entry.name, mod.app.fetch.bind(mod.app));
}

const json = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

const PREFIX = '/functions/v1/';

Deno.serve({ port, hostname, onListen: () => console.log(`functions: ${[...apps.keys()].sort().join(', ')} on http://${hostname}:${port}${PREFIX}`) }, (req) => {
  const url = new URL(req.url);
  if (!url.pathname.startsWith(PREFIX)) return json(404, 'not_found', `no route ${url.pathname}`);
  const name = url.pathname.slice(PREFIX.length).split('/')[0];
  const app = apps.get(name);
  if (!app) return json(404, 'not_found', `no function named ${name}`);
  url.pathname = url.pathname.slice(PREFIX.length - 1);
  return app(new Request(url, req));
});
