// npm run bench:release — dataset releases at scale, through HTTP, on their own stack, beside the
// live export of the same calculations measured in the same run. What is measured against a hosted
// function's limits (2 s of CPU and 150 s of wall time per request) is each request's own cost:
//   0. the SHA-256 the release seal keeps between parts (supabase/functions/_shared/sha256.ts)
//      against node:crypto on the same bytes, in this process (the same V8 as Deno);
//   1. seeds BENCH_N (10^5) completed calculations of ~20 atoms with COPY (bench/seed-calculations.ts);
//   2. makes a release of all of them: POST /datasets/:id/releases (members, first part of the
//      content hash), then POST …/seal until the last part publishes it (RELEASE_PART_ROWS members
//      per request, the function's default unless set here), with each request's wall time and the
//      Deno process's CPU time (bench/lib/proc-cpu.ts), and PostgreSQL's CPU over all of it;
//   3. exports the release as ndjson and extxyz, and the live /query/export of the same
//      calculations in both formats (the baseline), part by part (X-Next-Cursor) as the typed
//      client takes them, each part's Deno CPU; checks the ndjson export's SHA-256 against the
//      manifest. BENCH_EXPORTS=0 leaves the exports out (a 10^6 run);
//   4. bytes per member on disk (release_members and its indexes).
// Prints a table and appends it to bench/RESULTS.md with the date, cores and load.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import postgres from 'postgres';
import { cursorDownload } from '../shared/client-query.ts';
import type { ReleaseResponse, ReleaseSealing } from '../shared/contract/datasets.ts';
import { RELEASE_PART_ROWS } from '../supabase/functions/_shared/env.ts';
import { Sha256 } from '../supabase/functions/_shared/sha256.ts';
import { startTestStack } from '../test/support/stack.ts';
import { childCpuSeconds, cpuSeconds, cpuSpent } from './lib/proc-cpu.ts';
import { appendResults } from './lib/results.ts';
import { table } from './lib/table.ts';
import { seedCalculations } from './seed-calculations.ts';
import { createUser } from '../test/support/users.ts';

const N = Number(process.env.BENCH_N ?? 100_000);
const EXPORTS = process.env.BENCH_EXPORTS !== '0';
const PART_ROWS = process.env.RELEASE_PART_ROWS;

const notes: string[] = [];
const mb = (b: number) => b / 1e6;

/** 0. Our SHA-256 and node:crypto on the same 100 MB, fed in ndjson-sized pieces (2.3 kB). */
function hashSpeed(): (string | number)[][] {
  const piece = 2300;
  const data = randomBytes(100 * 1e6);
  const run = (name: string, hash: () => { update(b: Uint8Array): unknown; digest(): string }) => {
    const h = hash();
    const t0 = performance.now();
    for (let at = 0; at < data.length; at += piece) h.update(data.subarray(at, at + piece));
    const digest = h.digest();
    const s = (performance.now() - t0) / 1000;
    return { name, s, digest };
  };
  const ours = () => {
    const h = new Sha256();
    return { update: (b: Uint8Array) => h.update(b), digest: () => h.hex() };
  };
  const node = () => {
    const h = createHash('sha256');
    return { update: (b: Uint8Array) => h.update(b), digest: () => h.digest('hex') };
  };
  run('warm-up', ours);
  const a = run('Sha256 (TypeScript, midstate kept between parts)', ours);
  const b = run('node:crypto (baseline)', node);
  if (a.digest !== b.digest) throw new Error('the two SHA-256 digests differ');
  notes.push(`SHA-256 of 100 MB: ours ${(100 / a.s).toFixed(0)} MB/s, node:crypto ${(100 / b.s).toFixed(0)} MB/s (${(a.s / b.s).toFixed(1)}× its time).`);
  return [[a.name, a.s, 100 / a.s], [b.name, b.s, 100 / b.s]];
}

const hashRows = hashSpeed();
const stack = await startTestStack(PART_ROWS ? { RELEASE_PART_ROWS: PART_ROWS } : {});
const sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
const denoPid = () => {
  const pid = stack.functions.pid();
  if (!pid) throw new Error('the functions process is not running');
  return pid;
};

interface Step { wallS: number; cpuS: number }
/** Per request: max and total of Deno CPU and wall. */
const summary = (steps: Step[]) => ({
  n: steps.length,
  maxCpu: Math.max(...steps.map((s) => s.cpuS)),
  cpu: steps.reduce((t, s) => t + s.cpuS, 0),
  maxWall: Math.max(...steps.map((s) => s.wallS)),
  wall: steps.reduce((t, s) => t + s.wallS, 0),
});

try {
  const { id: userId, token } = await createUser(sql, stack.jwtSecret);
  console.log(`seeding ${N.toLocaleString('en-US')} calculations…`);
  await seedCalculations(sql, { userId, n: N });
  await sql`analyze`;
  const fn = `${stack.url}/functions/v1`;
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown): Promise<{ status: number; json: any; step: Step }> => {
    const cpu0 = cpuSeconds(denoPid());
    const t0 = performance.now();
    const res = await fetch(`${fn}/${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    const json = await res.json();
    return { status: res.status, json, step: { wallS: (performance.now() - t0) / 1000, cpuS: cpuSeconds(denoPid()) - cpu0 } };
  };

  const ds = (await post('datasets', { name: 'bench' })).json;
  console.log('making the release…');
  // PostgreSQL's backends (none to read with TEST_DB_URL: an outside server).
  const pgPid = stack.postgres?.pid();
  const pgCpuNow = () => (pgPid ? childCpuSeconds(pgPid) : new Map<number, number>());
  const pg0 = pgCpuNow();
  const made: Step[] = [];
  let answer = await post(`datasets/${ds.id}/releases`, { license: 'CC0-1.0', authors: ['bench'], filters: {} });
  made.push(answer.step);
  while (answer.status === 202) {
    const next = (answer.json as ReleaseSealing).sealing;
    if (made.length % 10 === 1) console.log(`  ${next.hashed.toLocaleString('en-US')} of ${next.members.toLocaleString('en-US')} hashed`);
    answer = await post(next.next, {});
    made.push(answer.step);
  }
  if (answer.status !== 201) throw new Error(`release: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
  const pgCpu = cpuSpent(pg0, pgCpuNow());
  const { manifest } = answer.json as ReleaseResponse;
  if (manifest.counts.calculations !== N) throw new Error(`release holds ${manifest.counts.calculations}, not ${N}`);
  const m = summary(made);

  const rows: (string | number)[][] = [
    [`make release: ${m.n} requests (members, ${m.n} hash parts, manifest)`, m.wall, m.cpu, m.maxCpu, m.maxWall, mb(manifest.content.bytes)],
    ['  first request (create_release + part 1)', made[0].wallS, made[0].cpuS, made[0].cpuS, made[0].wallS, ''],
    ['  last request (last part + seal_release)', made[m.n - 1].wallS, made[m.n - 1].cpuS, made[m.n - 1].cpuS, made[m.n - 1].wallS, ''],
  ];
  notes.push(`Making the release: PostgreSQL CPU ${pgCpu.toFixed(1)} s over all ${m.n} requests; ` +
    `Deno CPU per 10^5 members ${(m.cpu / N * 1e5).toFixed(2)} s.`);

  if (EXPORTS) {
    // Every part, as the typed client takes it; the Deno CPU between one part's request and the next.
    const download = async (url: string) => {
      const hash = createHash('sha256');
      let bytes = 0;
      const steps: Step[] = [];
      let cpu0 = cpuSeconds(denoPid());
      let t0 = performance.now();
      const mark = () => {
        const cpu = cpuSeconds(denoPid());
        const t = performance.now();
        steps.push({ cpuS: cpu - cpu0, wallS: (t - t0) / 1000 });
        cpu0 = cpu;
        t0 = t;
      };
      const part = (cursor: string | undefined) => {
        if (cursor) mark();
        return cursor ? `${url}&cursor=${encodeURIComponent(cursor)}` : url;
      };
      for await (const chunk of cursorDownload(part, { token })) {
        hash.update(chunk);
        bytes += chunk.byteLength;
      }
      mark();
      return { bytes, sha256: hash.digest('hex'), ...summary(steps) };
    };
    const release = `${fn}/datasets/${ds.id}/releases/1/export`;
    const exports = [
      ['release export ndjson', await download(`${release}?format=ndjson`)],
      ['live /query/export ndjson (baseline)', await download(`${fn}/query/export?format=ndjson`)],
      ['release export extxyz', await download(`${release}?format=extxyz`)],
      ['live /query/export extxyz (baseline)', await download(`${fn}/query/export?format=extxyz`)],
    ] as const;
    if (exports[0][1].sha256 !== manifest.content.sha256) throw new Error('the ndjson export does not hash to the manifest');
    notes.push(`ndjson export SHA-256 equals the manifest's (${manifest.content.sha256.slice(0, 16)}…).`);
    for (const [name, d] of exports) rows.push([`${name}: ${d.n} parts`, d.wall, d.cpu, d.maxCpu, d.maxWall, mb(d.bytes)]);
  } else {
    notes.push('Exports not measured in this run (BENCH_EXPORTS=0).');
  }

  const [disk] = await sql`
    select pg_total_relation_size('public.release_members')::float8 / greatest(count(*), 1) as per_member
      from public.release_members`;
  notes.push(`release_members on disk: ${Math.round(disk.per_member)} bytes per member (table and indexes).`);

  const body = [
    table(['SHA-256, 100 MB in 2.3 kB pieces', 's', 'MB/s'], hashRows),
    table(['step', 'wall s', 'Deno CPU s', 'Deno CPU s, max per request', 'wall s, max per request', 'MB'], rows),
  ].join('\n\n');
  const load = (await readFile('/proc/loadavg', 'utf8')).trim();
  const setup = `${N.toLocaleString('en-US')} seeded calculations (~20 atoms), one release of all of them, ` +
    `RELEASE_PART_ROWS ${PART_ROWS ?? `${RELEASE_PART_ROWS.toLocaleString('en-US')} (the default)`}; nproc ${os.cpus().length}, load ${load} at the end. ` +
    'Deno CPU = utime+stime of the functions process during each request (a hosted request gets 2 s).';
  console.log(notes.join('\n'));
  await appendResults('bench:release', setup, `${body}\n\n${notes.join('\n')}`);
} finally {
  await sql.end();
  await stack.destroy();
}
