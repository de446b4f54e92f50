// npm run bench:release — dataset releases at scale, through HTTP, on their own stack, beside the
// live export of the same calculations measured in the same run:
//   1. seeds BENCH_N (10^5) completed calculations of ~20 atoms with COPY (bench/seed-calculations.ts);
//   2. makes a release of all of them (POST /datasets/:id/releases: members, manifest, and the
//      SHA-256 of the canonical ndjson export computed by the function), with its wall time and the
//      Deno process's CPU time (what a hosted function's 2 s CPU budget is measured against);
//   3. exports the release as ndjson and extxyz, and the live /query/export of the same
//      calculations as extxyz (the baseline), each with wall time, MB/s and the Deno CPU time;
//      checks the ndjson export's SHA-256 against the manifest;
//   4. bytes per member on disk (release_members and its indexes).
// Prints a table and appends it to bench/RESULTS.md with the date, cores and load.
import { randomUUID, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import postgres from 'postgres';
import { mintToken } from '../scripts/stack/keys.ts';
import { startTestStack } from '../test/support/stack.ts';
import { cursorDownload } from '../shared/client-query.ts';
import { appendResults } from './lib/results.ts';
import { table } from './lib/table.ts';
import { seedCalculations } from './seed-calculations.ts';

const N = Number(process.env.BENCH_N ?? 100_000);
const TICKS_PER_S = 100; // USER_HZ on Linux

const stack = await startTestStack();
const sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
const notes: string[] = [];

/** utime + stime of the Deno process, in seconds. */
async function denoCpu(): Promise<number> {
  const stat = await readFile(`/proc/${stack.functions.pid()}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; wallS: number; cpuS: number }> {
  const cpu0 = await denoCpu();
  const t0 = performance.now();
  const value = await work();
  return { value, wallS: (performance.now() - t0) / 1000, cpuS: (await denoCpu()) - cpu0 };
}

try {
  const userId = randomUUID();
  await sql`insert into auth.users (id) values (${userId})`;
  console.log(`seeding ${N.toLocaleString('en-US')} calculations…`);
  await seedCalculations(sql, { userId, n: N });
  await sql`analyze`;
  const token = await mintToken({ secret: stack.jwtSecret, role: 'authenticated', sub: userId });
  const fn = `${stack.url}/functions/v1`;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const ds = await (await fetch(`${fn}/datasets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench' }) })).json();
  const made = await timed(async () => {
    const res = await fetch(`${fn}/datasets/${ds.id}/releases`, {
      method: 'POST', headers: auth, body: JSON.stringify({ license: 'CC0-1.0', authors: ['bench'], filters: {} }),
    });
    if (res.status !== 201) throw new Error(`release: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  });
  const manifest = made.value.manifest;
  if (manifest.counts.calculations !== N) throw new Error(`release holds ${manifest.counts.calculations}, not ${N}`);

  // Every part (at most MAX_EXPORT_LIMIT calculations each), as the typed client takes it.
  const download = (url: string) => timed(async () => {
    const hash = createHash('sha256');
    let bytes = 0;
    const token = auth.authorization.replace(/^Bearer /, '');
    const part = (cursor: string | undefined) => (cursor ? `${url}&cursor=${encodeURIComponent(cursor)}` : url);
    for await (const chunk of cursorDownload(part, { token })) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    return { bytes, sha256: hash.digest('hex') };
  });
  const release = `${fn}/datasets/${ds.id}/releases/1/export`;
  const ndjson = await download(`${release}?format=ndjson`);
  if (ndjson.value.sha256 !== manifest.content.sha256) throw new Error('the ndjson export does not hash to the manifest');
  const extxyz = await download(`${release}?format=extxyz`);
  const live = await download(`${fn}/query/export?format=extxyz`);
  const liveNdjson = await download(`${fn}/query/export?format=ndjson`);

  const [disk] = await sql`
    select pg_total_relation_size('public.release_members')::float8 / greatest(count(*), 1) as per_member
      from public.release_members`;

  const mb = (b: number) => b / 1e6;
  const rows: (string | number)[][] = [
    ['make release (members, manifest, SHA-256)', made.wallS, made.cpuS, mb(manifest.content.bytes), '', `${(made.cpuS / N * 1e5).toFixed(2)} s`],
    ['release export ndjson', ndjson.wallS, ndjson.cpuS, mb(ndjson.value.bytes), mb(ndjson.value.bytes) / ndjson.wallS, ''],
    ['live /query/export ndjson (baseline)', liveNdjson.wallS, liveNdjson.cpuS, mb(liveNdjson.value.bytes), mb(liveNdjson.value.bytes) / liveNdjson.wallS, ''],
    ['release export extxyz', extxyz.wallS, extxyz.cpuS, mb(extxyz.value.bytes), mb(extxyz.value.bytes) / extxyz.wallS, ''],
    ['live /query/export extxyz (baseline)', live.wallS, live.cpuS, mb(live.value.bytes), mb(live.value.bytes) / live.wallS, ''],
  ];
  const body = table(['step', 'wall s', 'Deno CPU s', 'MB', 'MB/s', 'Deno CPU per 10^5'], rows);
  notes.push(`ndjson export SHA-256 equals the manifest's (${manifest.content.sha256.slice(0, 16)}…).`);
  notes.push(`release_members on disk: ${Math.round(disk.per_member)} bytes per member (table and indexes).`);
  const load = (await readFile('/proc/loadavg', 'utf8')).trim();
  const setup = `${N.toLocaleString('en-US')} seeded calculations (~20 atoms), one release of all of them; nproc ${os.cpus().length}, ` +
    `load ${load} at the end. Deno CPU = utime+stime of the functions process during the request.`;
  console.log(notes.join('\n'));
  await appendResults('bench:release', setup, `${body}\n\n${notes.join('\n')}`);
} finally {
  await sql.end();
  await stack.destroy();
}
