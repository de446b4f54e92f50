// npm run bench:dashboard — the dashboard's weight and first load, on its own local stack:
//   1. builds dashboard/ with Vite and sizes each asset, raw and gzipped (zlib level 9, what a
//      static host's precompression gives), split into what the first page loads and what the
//      3D view fetches on demand;
//   2. uploads the fixture jobs for one user, serves the build, and opens it in Debian's Chromium
//      (playwright-core) BENCH_RUNS times with an empty cache: from navigation start to the
//      overview's counters and charts on screen (the page's own `qf:overview` mark), with
//      DOMContentLoaded and the bytes transferred; then once more each with a warm cache;
//   3. the first 3D view: from the route change to a drawn molecule (`qf:viewer`), which
//      includes fetching and starting 3Dmol.js.
// Baseline, measured in the same run: GET /query/stats from Node, the answer the overview waits
// for; what the page takes beyond it is the dashboard's own cost.
// The local server sends files uncompressed over loopback, so the times are mostly parse,
// execution and the API's answers, not the network. Prints a table and appends it to
// bench/RESULTS.md with the date, cores and load average (BENCH_RESULTS=0 to skip).
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import postgres from 'postgres';
import { QfClient } from '../shared/client.ts';
import { listCalculations } from '../shared/client-query.ts';
import { parseJobFiles, readJobFiles, walkJobs } from '../shared/xtb/index.ts';
import { nodeSupabase } from '../scripts/lib/supabase.ts';
import { launchChromium, serveFreshDashboard } from '../test/dashboard/browser.ts';
import { FIXTURE_JOBS } from '../test/support/fixtures.ts';
import { startTestStack } from '../test/support/stack.ts';
import { appendResults } from './lib/results.ts';
import { formatNumber, table } from './lib/table.ts';
import { createUser } from '../test/support/users.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startTestStack();
const dashboard = await serveFreshDashboard({ url: stack.url, anonKey: stack.anonKey, local: true });
const browser = await launchChromium();
try {
  // 1. Sizes: what index.html loads (its script, stylesheet and preloads), and the rest.
  const html = await readFile(path.join(dashboard.dir, 'index.html'), 'utf8');
  const assets = (await readdir(path.join(dashboard.dir, 'assets'))).sort();
  const sizes = await Promise.all(assets.map(async (name) => {
    const bytes = await readFile(path.join(dashboard.dir, 'assets', name));
    return { name, first: html.includes(`assets/${name}`), raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }));
  const firstJs = sizes.filter((s) => s.first && s.name.endsWith('.js'));
  const sizeTable = table(['asset', 'loaded', 'bytes', 'gzip'], [
    ...sizes.map((s) => [s.name.replace(/-[\w-]{8}\./, '.'), s.first ? 'first page' : 'on demand', kB(s.raw), kB(s.gzip)]),
    ['JavaScript of the first page', '', kB(firstJs.reduce((a, s) => a + s.raw, 0)), kB(firstJs.reduce((a, s) => a + s.gzip, 0))],
  ]);

  // 2. A user with the fixture jobs.
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  const { token } = await createUser(sql, stack.jwtSecret);
  await sql.end();
  const client = new QfClient(nodeSupabase(stack.url, token));
  const items = [];
  for await (const ev of walkJobs(FIXTURE_JOBS)) {
    if (ev.kind === 'job') {
      const parsed = parseJobFiles(ev.path, await readJobFiles(ev.dir));
      if (parsed.calculation) items.push(parsed.calculation);
    }
  }
  await client.ingest(items);
  const [calc] = (await listCalculations(client, { status: 'completed', task: 'grad', limit: 1 })).data;

  const api: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${stack.url}/functions/v1/query/stats`, { headers: { authorization: `Bearer ${token}` } });
    await res.json();
    api.push(performance.now() - t0);
  }

  const cold: { overview: number; dcl: number; bytes: number; viewer: number }[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/#token=${token}`);
    await page.waitForFunction(() => performance.getEntriesByName('qf:overview').length > 0, undefined, { timeout: 120_000 });
    const first = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return {
        overview: performance.getEntriesByName('qf:overview')[0].startTime,
        dcl: nav.domContentLoadedEventEnd,
        bytes: nav.transferSize + resources.filter((r) => !r.name.includes('/functions/v1/')).reduce((a, r) => a + r.transferSize, 0),
      };
    });
    // The first 3D view in this (cold) context: 3Dmol.js is fetched and started now.
    const t0 = await page.evaluate((id) => {
      const start = performance.now();
      location.hash = `#/calculations/${id}`;
      return start;
    }, calc.id);
    await page.waitForFunction(() => performance.getEntriesByName('qf:viewer').length > 0, undefined, { timeout: 120_000 });
    const viewer = (await page.evaluate(() => performance.getEntriesByName('qf:viewer')[0].startTime)) - t0;
    cold.push({ ...first, viewer });
    // The same page again, with the assets in the cache (the token is kept for the tab).
    await page.goto('about:blank');
    await page.goto(`${dashboard.url}/#/`);
    await page.waitForFunction(() => performance.getEntriesByName('qf:overview').length > 0, undefined, { timeout: 120_000 });
    warm.push(await page.evaluate(() => performance.getEntriesByName('qf:overview')[0].startTime));
    await context.close();
  }
  const row = (name: string, xs: number[]) => [name, median(xs), Math.min(...xs), Math.max(...xs)];
  const timeTable = table(['first load, ms (Chromium, local stack)', 'median', 'min', 'max'], [
    row('baseline: GET /query/stats alone (Node fetch)', api),
    row('cold cache: navigation → DOMContentLoaded', cold.map((c) => c.dcl)),
    row('cold cache: navigation → overview with data', cold.map((c) => c.overview)),
    row('warm cache: navigation → overview with data', warm),
    row('first 3D view: route → molecule drawn (loads 3Dmol.js)', cold.map((c) => c.viewer)),
  ].map((r) => r.map((c) => (typeof c === 'number' ? Math.round(c).toLocaleString('en-US') : c))));
  const notes = [
    `- ${RUNS} runs, each in a new browser context (empty cache); ${formatNumber(median(cold.map((c) => c.bytes)) / 1024)} kB of page assets transferred on a cold load (uncompressed: the local server does not gzip).`,
    `- The overview waits for GET /query/stats (${items.length} fixture calculations): the times include the functions' answer, token verification and RLS.`,
    `- Chromium ${browser.version()} headless, software WebGL (SwiftShader); machine load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) on ${os.cpus().length} cores.`,
  ].join('\n');
  console.log(notes);
  if (process.env.BENCH_RESULTS !== '0') {
    await appendResults('bench:dashboard', 'The dashboard (dashboard/, Vite build) served by the local static server; Debian Chromium via playwright-core.',
      `${sizeTable}\n\n${timeTable}\n\n${notes}`);
  }
} finally {
  await browser.close();
  await dashboard.stop();
  await stack.destroy();
}
