// The dashboard (dashboard/, a static site) on the local stack: built with Vite into
// dashboard/dist-local when that is missing or older than its sources (dashboard/dist is left to
// `npm run dashboard:build`, the hosted build), served from this process over plain HTTP, with
// /config.json telling the page which project to call. `npm start` also signs in its demo user
// (scripts/lib/local-user.ts) through the URL it prints: `#token=…` travels in the fragment, which
// the browser never sends.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { repoPath } from './paths.ts';
import { describePortInUse, portInUse } from './port-owner.ts';
import type { Stack } from './stack.ts';

/** The local build; a hosted build (`npm run dashboard:build`) goes to dashboard/dist. */
export const LOCAL_BUILD = repoPath('dashboard', 'dist-local');
/** Beside the built files: the hash of the sources they were built from. */
const STAMP = '.source-hash';
/** What the build reads: the dashboard's sources, the shared client and contract, the lockfile. */
const SOURCES = ['dashboard', 'shared', 'package-lock.json'];

/** The page's /config.json: the project's URL and anon key. */
export interface DashboardConfig {
  url: string;
  anonKey: string;
  local: boolean;
}

async function* files(p: string): AsyncGenerator<string> {
  const info = await stat(p).catch(() => undefined);
  if (!info) return;
  if (info.isFile()) {
    yield p;
    return;
  }
  for (const entry of (await readdir(p)).sort()) {
    if (entry.startsWith('dist') || entry === 'node_modules') continue;
    yield* files(path.join(p, entry));
  }
}

/** A hash of every source file's path and content: a checkout or an edit changes it, a touch does not. */
export async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const root of SOURCES) {
    for await (const file of files(repoPath(root))) hash.update(path.relative(repoPath(), file)).update('\0').update(await readFile(file));
  }
  return hash.digest('hex');
}

/**
 * Builds the dashboard into `outDir` for the local server, which answers /config.json: hosted
 * settings in this shell (VITE_SUPABASE_URL, VITE_SUPABASE_ANON_KEY) are left out of this build.
 */
export async function buildDashboard(outDir: string): Promise<void> {
  const { build } = await import('vite');
  const saved = { url: process.env.VITE_SUPABASE_URL, key: process.env.VITE_SUPABASE_ANON_KEY };
  delete process.env.VITE_SUPABASE_URL;
  delete process.env.VITE_SUPABASE_ANON_KEY;
  try {
    await build({ configFile: repoPath('dashboard', 'vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
  } finally {
    if (saved.url !== undefined) process.env.VITE_SUPABASE_URL = saved.url;
    if (saved.key !== undefined) process.env.VITE_SUPABASE_ANON_KEY = saved.key;
  }
}

/** The local build, built first if it is missing or was built from other sources. */
export async function ensureDashboardBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const hash = await sourceHash();
  const built = await readFile(path.join(LOCAL_BUILD, STAMP), 'utf8').catch(() => '');
  if (built === hash) return LOCAL_BUILD;
  log('Building the dashboard (dashboard/ → dashboard/dist-local)…');
  // Built aside and moved into place, so a server reading the folder never sees half a build.
  const tmp = `${LOCAL_BUILD}.tmp-${randomUUID()}`;
  await buildDashboard(tmp);
  await writeFile(path.join(tmp, STAMP), hash);
  await rm(LOCAL_BUILD, { recursive: true, force: true });
  await rename(tmp, LOCAL_BUILD);
  return LOCAL_BUILD;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

export interface DashboardServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves the files of `dir` (GET and HEAD only, nothing outside `dir`) and /config.json from
 * `config()`. Hashed assets are cached for good; index.html is revalidated on every load.
 */
export async function serveDashboard(opts: {
  dir: string;
  port: number;
  host?: string;
  config: () => DashboardConfig | undefined;
}): Promise<DashboardServer> {
  const root = path.resolve(opts.dir);
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain', 'bad path\n');
    }
    if (pathname === '/config.json') {
      const config = opts.config();
      return config
        ? send(res, 200, TYPES['.json'], JSON.stringify(config))
        : send(res, 503, 'text/plain', 'the stack is still starting\n');
    }
    const file = path.resolve(root, '.' + (pathname.endsWith('/') ? pathname + 'index.html' : pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return send(res, 404, 'text/plain', 'not found\n');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || path.basename(file).startsWith('.')) return send(res, 404, 'text/plain', 'not found\n');
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'error\n');
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface LocalDashboard {
  url: string;
  /**
   * Points the page at the stack and returns the URL to print: with `#token=` when given a user's
   * token (npm start passes the demo user's), else the bare URL (sign in with a pasted token).
   */
  attach(stack: Stack, token?: string): string;
  stop(): Promise<void>;
}

/** `npm start`'s dashboard: checks the port, builds if needed, then serves. */
export async function startDashboard(opts: { port: number; log?: (line: string) => void }): Promise<LocalDashboard> {
  if (await portInUse(opts.port)) throw new Error(await describePortInUse(opts.port, 'the dashboard'));
  const dir = await ensureDashboardBuilt(opts.log);
  let config: DashboardConfig | undefined;
  const server = await serveDashboard({ dir, port: opts.port, config: () => config });
  return {
    url: server.url,
    stop: server.stop,
    attach: (stack, token) => {
      config = { url: stack.url, anonKey: stack.anonKey, local: true };
      return token ? `${server.url}/#token=${token}` : `${server.url}/`;
    },
  };
}
