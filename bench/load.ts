// Load: LOAD_CLIENTS (50) concurrent clients on loopback for LOAD_SECONDS (60) against a private
// stack, in a mix of 40% ingest batches of 20, 40% queries, 15% claim + complete, 5% exports.
// Reports throughput, p50/p95/p99 per route, errors, and peak RSS of Postgres (postmaster and its
// backends, shared memory counted per process) and Deno; then checks that the database holds exactly
// the calculations that were acknowledged. Appends the table to bench/RESULTS.md.
//
// Then the same clients run LOAD_SECONDS again beside a hostile client (issue 17), unless
// LOAD_HOSTILE=0: one user sending ingests of 20 pathological SMILES in a loop (498-heavy-atom
// chains, each string new so that no answer comes from memory, and 840-atom ones over the cap), and
// HOSTILE_USERS (3) users each holding EXPORTS_PER_USER (2) exports of their 1,000 calculations
// open without reading them. The well-behaved clients' p99 of both phases is reported side by side:
// the baseline is measured in the same run, on the same stack and data.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { readFile, readdir } from 'node:fs/promises';
import postgres from 'postgres';
import { repoPath } from '../scripts/stack/paths.ts';
import { calc, calcWithAtoms, GEOMETRIES, resultFor, shifted } from '../test/support/payloads.ts';
import { startTestStack } from '../test/support/stack.ts';
import { createUser } from '../test/support/users.ts';
import { appendResults } from './lib/results.ts';
import { percentile, table } from './lib/table.ts';

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 50);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const HAS_QUERY = existsSync(repoPath('supabase/functions/query/app.ts'));
const SMILES = ['O', 'C', 'CCO'] as const;
const HOSTILE = process.env.LOAD_HOSTILE !== '0';
const HOSTILE_USERS = 3;
const EXPORTS_PER_USER = 2; // the server's default quota: a third would only get 429s

const stack = await startTestStack();
const sql = postgres(stack.dbUrl, { max: 4, onnotice: () => {} });

interface Client { userId: string; token: string; batchId: string; acked: Set<string>; seed: number }
const samples = new Map<string, number[]>();
const errors = new Map<string, Map<string, number>>();

function record(route: string, ms: number, error?: string) {
  if (!samples.has(route)) samples.set(route, []);
  samples.get(route)!.push(ms);
  if (error) {
    const e = errors.get(route) ?? new Map<string, number>();
    e.set(error, (e.get(error) ?? 0) + 1);
    errors.set(route, e);
  }
}

async function req(route: string, c: { token: string }, path: string, body?: unknown): Promise<any> {
  const started = performance.now();
  try {
    const res = await fetch(`${stack.url}/functions/v1/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${c.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    record(route, performance.now() - started, res.ok ? undefined : `${res.status}`);
    if (!res.ok) return undefined;
    return route === 'export' ? text : JSON.parse(text);
  } catch (err) {
    record(route, performance.now() - started, (err as Error).name);
    return undefined;
  }
}

async function setup(i: number): Promise<Client> {
  const { id: userId, token } = await createUser(sql, stack.jwtSecret);
  const items = Array.from({ length: 500 }, (_, k) => ({ smiles: 'C', geometry: shifted(GEOMETRIES.C, 50 + k * 1e-3) }));
  const c: Client = { userId, token, batchId: '', acked: new Set(), seed: i * 1_000_000 };
  const created = await req('setup', c, 'batches', { name: `load ${i}`, items });
  c.batchId = created.batch.id;
  return c;
}

async function ingest(c: Client) {
  const calculations = Array.from({ length: 20 }, () => calc({ smiles: SMILES[c.seed % 3], seed: c.seed++ }));
  const body = await req('ingest (20)', c, 'ingest', { calculations });
  for (const r of body?.results ?? []) if (r.calculation_id) c.acked.add(r.calculation_id);
}

async function query(c: Client) {
  const paths = ['query/molecules?limit=20', 'query/calculations?limit=50&sort=energy', 'query/stats', 'query/events?limit=50'];
  const path = paths[Math.floor(Math.random() * paths.length)];
  await req(`query ${path.split('?')[0].slice(6)}`, c, path);
}

async function claimComplete(c: Client) {
  const claimed = await req('claim', c, 'batches/claim', { runner_id: `load-${c.userId}`, batch_id: c.batchId, limit: 1 });
  const it = claimed?.items?.[0];
  if (!it) return;
  const done = await req('complete', c, 'batches/complete', { runner_id: `load-${c.userId}`, item_id: it.item_id, result: resultFor(it) });
  if (done?.calculation_id) c.acked.add(done.calculation_id);
}

async function exportSome(c: Client) {
  await req('export', c, 'query/export?format=ndjson&limit=200');
}

// ---- the hostile client -------------------------------------------------------------------------
interface Hostile { token: string; userId: string; n: number }

/** 498 heavy atoms of C(F)(F) units with single bonds written out at two places chosen by `k`: a new string each time. */
function pathologicalChain(k: number): string {
  const units = Array<string>(166).fill('C(F)(F)');
  const a = k % 165;
  const b = (Math.floor(k / 165) + a + 1) % 165;
  return units.map((u, i) => (i === a || i === b ? `${u}-` : u)).join('');
}

async function hostileIngest(h: Hostile, until: number) {
  while (Date.now() < until) {
    const calculations = Array.from({ length: 20 }, (_, i) => i % 5 === 4
      ? calcWithAtoms('C(F)(F)'.repeat(280), { C: 280, F: 560, H: 2 }, h.n++)
      : calcWithAtoms(pathologicalChain(h.n++), { C: 166, F: 332, H: 2 }, h.n));
    await req('hostile ingest (20 pathological)', h, 'ingest', { calculations });
  }
}

/** Opens an export and never reads its body until `until`; then drops it, and opens another meanwhile if it ended early. */
async function slowReader(h: Hostile, until: number) {
  while (Date.now() < until) {
    const started = performance.now();
    const aborter = new AbortController();
    try {
      const res = await fetch(`${stack.url}/functions/v1/query/export?format=extxyz`, {
        headers: { authorization: `Bearer ${h.token}` }, signal: aborter.signal,
      });
      record('hostile export (never read)', performance.now() - started, res.ok ? undefined : `${res.status}`);
      if (!res.ok) {
        await res.text();
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
    } catch (err) {
      record('hostile export (never read)', performance.now() - started, (err as Error).name);
    } finally {
      aborter.abort();
    }
  }
}

async function setupHostile(): Promise<Hostile[]> {
  const out: Hostile[] = [];
  for (let u = 0; u < HOSTILE_USERS; u++) {
    const { id: userId, token } = await createUser(sql, stack.jwtSecret);
    const h: Hostile = { userId, token, n: u * 100_000 };
    for (let k = 0; k < 5; k++) {
      const calculations = Array.from({ length: 200 }, (_, i) => calc({ smiles: SMILES[i % 3], seed: 9_000_000 + u * 10_000 + k * 200 + i }));
      await req('setup', h as unknown as Client, 'ingest', { calculations });
    }
    out.push(h);
  }
  return out;
}

async function rss(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function postgresRss(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  let total = await rss(pid);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += await rss(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}

try {
  console.log(`setting up ${CLIENTS} users with a 500-item batch each…`);
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await setup(i));
  samples.delete('setup');

  let peakDeno = 0;
  let peakPg = 0;
  const sampler = setInterval(async () => {
    peakDeno = Math.max(peakDeno, await rss(stack.functions.pid()));
    peakPg = Math.max(peakPg, await postgresRss(stack.postgres?.pid()));
  }, 500);

  /** The clients (and the hostile client, if given) for SECONDS: each request's time per route. */
  async function phase(label: string, hostiles?: Hostile[]) {
    samples.clear();
    errors.clear();
    console.log(`running ${CLIENTS} clients for ${SECONDS} s${hostiles ? ' beside the hostile client' : ''}${HAS_QUERY ? '' : ' (no query function: queries and exports skipped)'}…`);
    const end = Date.now() + SECONDS * 1000;
    const started = performance.now();
    const hostileWork = hostiles && HAS_QUERY
      ? [hostileIngest(hostiles[0], end), ...hostiles.flatMap((h) => Array.from({ length: EXPORTS_PER_USER }, () => slowReader(h, end)))]
      : hostiles ? [hostileIngest(hostiles[0], end)] : [];
    await Promise.all([...hostileWork, ...clients.map(async (c) => {
      while (Date.now() < end) {
        const r = Math.random();
        if (r < 0.40) await ingest(c);
        else if (r < 0.80) { if (HAS_QUERY) await query(c); else await ingest(c); }
        else if (r < 0.95) await claimComplete(c);
        else if (HAS_QUERY) await exportSome(c);
        else await claimComplete(c);
      }
    })]);
    const elapsed = (performance.now() - started) / 1000;
    const rows = [...samples.entries()].sort().map(([route, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      const errs = [...(errors.get(route) ?? new Map()).entries()].map(([k, v]) => `${k}×${v}`).join(' ') || '0';
      return [route, ms.length, ms.length / elapsed, percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), errs];
    });
    const wellBehaved = new Map([...samples.entries()].filter(([route]) => !route.startsWith('hostile')));
    wellBehaved.set('all well-behaved requests', [...wellBehaved.values()].flat());
    return { label, table: table(['route', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'], rows), wellBehaved };
  }

  const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const loadBefore = await loadavg();
  const phases = [await phase('well-behaved clients alone')];
  if (HOSTILE) {
    console.log(`setting up the hostile client (${HOSTILE_USERS} users with 1,000 calculations each to export)…`);
    phases.push(await phase('with the hostile client', await setupHostile()));
  }
  clearInterval(sampler);
  const loads = `load average (1/5/15 min) before: ${loadBefore}; after: ${await loadavg()}; nproc ${os.cpus().length}`;
  let out = phases.map((p) => `${p.label}:\n\n${p.table}`).join('\n\n');
  if (phases.length === 2) {
    const p99 = (ms: number[] | undefined) => (ms?.length ? percentile([...ms].sort((a, b) => a - b), 99) : NaN);
    const routes = [...phases[0].wellBehaved.keys()].sort((a, b) => Number(a.startsWith('all')) - Number(b.startsWith('all')) || a.localeCompare(b));
    out += `\n\nwell-behaved clients, p99 without and with the hostile client (same run):\n\n${table(
      ['route', 'p99 ms alone', 'p99 ms with hostile', 'ratio'],
      routes.map((r) => {
        const [a, b] = [p99(phases[0].wellBehaved.get(r)), p99(phases[1].wellBehaved.get(r))];
        return [r, a, b, b / a];
      }),
    )}`;
  }
  console.log(out);

  // What the database holds is exactly what was acknowledged.
  let missing = 0;
  let extra = 0;
  for (const c of clients) {
    const stored = new Set((await sql<{ id: string }[]>`select id from public.calculations where user_id = ${c.userId}`).map((r) => r.id));
    for (const id of c.acked) if (!stored.has(id)) missing++;
    for (const id of stored) if (!c.acked.has(id)) extra++;
  }
  const acked = clients.reduce((s, c) => s + c.acked.size, 0);
  const check = `acknowledged calculations: ${acked}; missing from the database: ${missing}; stored but not acknowledged: ${extra}`;
  const memory = `peak RSS: Deno ${Math.round(peakDeno / 1024)} MB; Postgres (postmaster + backends, shared buffers counted per process) ${Math.round(peakPg / 1024)} MB`;
  console.log(check);
  console.log(memory);
  await appendResults('load (npm run bench:load)',
    `${CLIENTS} clients for ${SECONDS} s on loopback; mix 40% ingest of 20, 40% queries, 15% claim+complete, 5% export${HAS_QUERY ? '' : ' (no query function)'}` +
    (HOSTILE ? `; then ${SECONDS} s more beside a hostile client (one user ingesting 20 pathological SMILES per request in a loop; ${HOSTILE_USERS * EXPORTS_PER_USER} exports held open unread by ${HOSTILE_USERS} users).` : '.'),
    `${out}\n\n${check}\n\n${memory}\n\n${loads}`);
  if (missing || extra) process.exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
  await stack.destroy();
}
