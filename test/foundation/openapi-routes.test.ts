// Every route the functions' Hono apps register is in the route registry (shared/api), and every
// route in the registry is registered: a route added without its contract, or documented but gone,
// fails here. The apps are imported under Deno, as the functions router does.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ALL_FUNCTIONS } from '../../shared/api/all-functions.ts';
import { registeredRoutes } from '../../shared/api/openapi-document.ts';
import { DENO_BIN } from '../../scripts/stack/functions.ts';
import { REPO_ROOT, repoPath } from '../../scripts/stack/paths.ts';

const run = promisify(execFile);

/** The apps' routes per function; `extra` first adds one route to one app (`ingest GET /x`, under the base path). */
async function appRoutes(extra?: string): Promise<Record<string, string[]>> {
  const { stdout } = await run(DENO_BIN, [
    'run', '--allow-read', '--allow-env', '--allow-net', '--allow-sys', '--no-prompt', '--config', 'deno.json',
    'test/support/app-routes.ts',
  ], {
    cwd: REPO_ROOT,
    // The apps build their dependencies at import; nothing is connected until a request comes.
    env: {
      ...process.env, NO_COLOR: '1', EXTRA_ROUTE: extra ?? '',
      SUPABASE_URL: 'http://127.0.0.1:9', SUPABASE_DB_URL: 'postgresql://nobody@127.0.0.1:9/none', JWT_SECRET: 'x'.repeat(40),
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** What the registry and an app disagree on: undocumented and unregistered routes. */
function differences(fn: string, routes: string[]) {
  const api = ALL_FUNCTIONS.find((f) => f.name === fn);
  const documented = api ? registeredRoutes(api) : [];
  return {
    undocumented: routes.filter((r) => !documented.includes(r)).sort(),
    unregistered: documented.filter((r) => !routes.includes(r)).sort(),
  };
}

const functionDirs = readdirSync(repoPath('supabase/functions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_') && !d.name.startsWith('.'))
  .map((d) => d.name)
  .sort();

describe('the route registry and the apps', () => {
  it('lists every function there is, and only those', () => {
    expect(ALL_FUNCTIONS.map((f) => f.name).sort()).toEqual(functionDirs);
  });

  it('agree on every method and path of every function', async () => {
    const apps = await appRoutes();
    expect(Object.keys(apps).sort()).toEqual(functionDirs);
    for (const [fn, routes] of Object.entries(apps)) {
      expect(routes.length, fn).toBeGreaterThan(1);
      expect(differences(fn, routes), fn).toEqual({ undocumented: [], unregistered: [] });
    }
  }, 60_000);

  it('notice a route added without its contract', async () => {
    const apps = await appRoutes('ingest GET /secret');
    expect(differences('ingest', apps.ingest)).toEqual({ undocumented: ['GET /ingest/secret'], unregistered: [] });
  }, 60_000);
});
