// npm run bench:query — the query function at scale, through HTTP, on its own stack:
//   1. seeds BENCH_N (10^6) completed calculations of ~20 atoms with COPY (bench/seed-calculations.ts);
//   2. p50/p95 over 200 requests of: an energy-and-gap range page of 100 rows, the same query at
//      page 1,000 by cursor, a formula lookup, and /stats;
//   3. the export rate of BENCH_EXPORT_N (10^5) calculations as extxyz, with the Deno process's
//      peak RSS sampled during the export;
//   4. bytes per calculation on disk (tables and indexes);
//   5. the same calculations (the exported extxyz) loaded into ASE's database (ase.db, SQLite,
//      Debian's python3-ase) and the same energy-and-gap range query timed there;
//   6. EXPLAIN (ANALYZE, BUFFERS) of each query as the user, under RLS, into bench/plans/.
// Prints a table and appends it to bench/RESULTS.md.
//
// BENCH_DATA_DIR=<dir> keeps the database there and reuses it (and its seeded user) next time.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { mintToken, newJwtSecret } from '../scripts/stack/keys.ts';
import { repoPath } from '../scripts/stack/paths.ts';
import { startStack, type Stack } from '../scripts/stack/stack.ts';
import { freePort, startTestStack } from '../test/support/stack.ts';
import { actAs, API_ROLE } from '../test/support/db.ts';
import { childCpuSeconds, cpuSeconds, cpuSpent } from './lib/proc-cpu.ts';
import { appendResults } from './lib/results.ts';
import { percentile, table } from './lib/table.ts';
import { seedCalculations } from './seed-calculations.ts';
import { MAX_EXPORT_LIMIT, NEXT_CURSOR_HEADER } from '../shared/contract/query.ts';
import { insertUser } from '../test/support/users.ts';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const EXPORT_N = Math.min(N, Number(process.env.BENCH_EXPORT_N ?? 100_000));
const ASE_N = Math.min(EXPORT_N, Number(process.env.BENCH_ASE_N ?? 100_000));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const DEEP_PAGE = Number(process.env.BENCH_DEEP_PAGE ?? 1000);
const run = promisify(execFile);

async function openStack(): Promise<{ stack: Stack; destroy: () => Promise<void> }> {
  const keep = process.env.BENCH_DATA_DIR;
  if (!keep) {
    const stack = await startTestStack();
    return { stack, destroy: () => stack.destroy() };
  }
  await mkdir(keep, { recursive: true, mode: 0o755 });
  const stack = await startStack({
    dataDir: path.join(path.resolve(keep), 'pgdata'),
    dbPort: await freePort(),
    functionsPort: await freePort(),
    jwtSecret: newJwtSecret(),
  });
  return { stack, destroy: () => stack.stop() };
}

const { stack, destroy } = await openStack();
const sql = postgres(stack.dbUrl, { max: 4, onnotice: () => {} });
const work = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-query-'));
const lines: string[] = [];
const note = (s: string) => {
  console.log(s);
  lines.push(s);
};

try {
  // --- 1. seed -----------------------------------------------------------------------------
  const userFile = process.env.BENCH_DATA_DIR ? path.join(process.env.BENCH_DATA_DIR, 'bench-user') : undefined;
  let userId = userFile && existsSync(userFile) ? (await readFile(userFile, 'utf8')).trim() : randomUUID();
  const [{ have }] = await sql`select count(*)::int as have from public.calculations where user_id = ${userId}`;
  let seedNote = `reused ${have.toLocaleString('en-US')} seeded calculations`;
  if (have < N) {
    if (have > 0) userId = randomUUID();
    await insertUser(sql, userId);
    let last = 0;
    const seeded = await seedCalculations(sql, {
      userId, n: N,
      onProgress: (done, total) => {
        if (done - last >= total / 10 || done === total) {
          last = done;
          console.log(`  seeded ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`);
        }
      },
    });
    const t = performance.now();
    await sql`vacuum (analyze) public.calculations, public.atomic_properties, public.molecules, public.event_logs`;
    seedNote = `seeded ${N.toLocaleString('en-US')} calculations (${seeded.atoms.toLocaleString('en-US')} atoms, ` +
      `${seeded.molecules} molecules) with COPY in ${(seeded.seconds / 60).toFixed(1)} min; vacuum analyze ${((performance.now() - t) / 1000).toFixed(0)} s`;
    if (userFile) await writeFile(userFile, userId + '\n');
  }
  note(`- ${seedNote}`);
  const token = await mintToken({ secret: stack.jwtSecret, role: 'authenticated', sub: userId, ttlSeconds: 24 * 3600 });
  const base = `${stack.url}/functions/v1/query`;
  const get = async (route: string) => {
    const res = await fetch(`${base}/${route}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };

  // The queries: energies between the 20th and 60th percentile, gaps 4–9 eV, 100 rows by energy.
  const [{ lo, hi }] = await sql`
    select percentile_cont(0.2) within group (order by total_energy_eh) as lo,
           percentile_cont(0.6) within group (order by total_energy_eh) as hi
      from public.calculations where user_id = ${userId}`;
  const eLo = Math.round(lo * 100) / 100;
  const eHi = Math.round(hi * 100) / 100;
  const range = `energy_min=${eLo}&energy_max=${eHi}&gap_min=4&gap_max=9&sort=energy&limit=100`;
  const [{ formula, molecules: isomers }] = await sql`
    select formula, count(*)::int as molecules from public.molecules where user_id = ${userId}
     group by formula order by count(*) desc, formula limit 1`;
  const [{ matches }] = await sql`select count(*)::int as matches from public.calculations c join public.molecules m on m.id = c.molecule_id
    where c.user_id = ${userId} and c.total_energy_eh between ${eLo} and ${eHi} and c.homo_lumo_gap_ev between 4 and 9`;
  const [{ formulaRows }] = await sql`select count(*)::int as "formulaRows" from public.calculations c join public.molecules m on m.id = c.molecule_id
    where c.user_id = ${userId} and m.formula = ${formula}`;
  note(`- range query: \`${range}\` (${matches.toLocaleString('en-US')} matching rows)`);
  note(`- formula lookup: \`formula=${formula}&limit=100\` (${isomers} molecules, ${formulaRows.toLocaleString('en-US')} calculations)`);

  // --- 2. latency ----------------------------------------------------------------------------
  let deepCursor: string | null = null;
  {
    let cursor: string | null = null;
    for (let p = 1; p < DEEP_PAGE; p++) {
      const page = await get(`calculations?${range}${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = page.next_cursor;
      if (!cursor) throw new Error(`the range query has fewer than ${DEEP_PAGE} pages`);
    }
    deepCursor = cursor;
  }
  const deepRoute = `calculations?energy_min=${eLo}&energy_max=${eHi}&gap_min=4&gap_max=9&limit=100&cursor=${deepCursor}`;
  const measure = async (route: string) => {
    for (let i = 0; i < 5; i++) await get(route); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await get(route);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
  };
  const latency = {
    page1: await measure(`calculations?${range}`),
    deep: await measure(deepRoute),
    formula: await measure(`calculations?formula=${formula}&limit=100`),
    stats: await measure('stats'),
  };

  // /stats in parts, as the user in SQL (no HTTP): the counters view, the kept histograms, and
  // the baseline: the same two histograms recounted in one pass over every calculation, as
  // calculation_histograms did before histogram_cells kept them.
  const sqlMs = async (query: string, runs = 20) => {
    const ms: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const t = await sql.begin(async (tx) => {
        await actAs(tx, API_ROLE, userId, { statementTimeoutMs: 120_000 });
        const start = performance.now();
        await tx.unsafe(query);
        return performance.now() - start;
      });
      if (i >= 2) ms.push(t);
    }
    ms.sort((a, b) => a - b);
    return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
  };
  const statsParts = {
    counters: await sqlMs('select * from public.database_stats'),
    histograms: await sqlMs('select public.calculation_histograms(20)'),
    // What the read did before histogram_blocks: every kept cell summed over its slots (only the
    // first step of that read; the binning came on top).
    everyCell: await sqlMs('select h.quantity, h.cell, sum(h.n) from public.histogram_cells h group by 1, 2 having sum(h.n) <> 0'),
    recount: await sqlMs(`
      with v as (select c.total_energy_eh / m.n_atoms as e, c.homo_lumo_gap_ev as g
                   from public.molecules m join public.calculations c on c.molecule_id = m.id and c.user_id = m.user_id
                  where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null),
           b as (select min(e) as elo, max(e) as ehi, min(g) as glo, max(g) as ghi from v)
      select least(width_bucket(v.e, b.elo, b.ehi, 20), 20) as e_bin, least(width_bucket(v.g, b.glo, b.ghi, 20), 20) as g_bin, count(*)
        from v, b group by 1, 2`, 5),
  };
  const [{ cells }] = await sql`select count(*)::int as cells from public.histogram_cells where user_id = ${userId}`;
  const [{ blocks }] = await sql`select count(*)::int as blocks from public.histogram_blocks where user_id = ${userId}`;

  // --- 3. export ------------------------------------------------------------------------------
  const denoPid = stack.functions.pid();
  const rss = async () => {
    const text = await readFile(`/proc/${denoPid}/status`, 'utf8').catch(() => '');
    return Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024;
  };
  const rssBefore = await rss();
  let rssPeak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, await rss());
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  // Where the export's time goes: CPU of the Deno process and of the whole PostgreSQL server
  // (the postmaster's children: the backend that renders the text, and the rest) during it.
  const [{ dataDir }] = await sql`select current_setting('data_directory') as "dataDir"`;
  const postmasterPid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pgCpuBefore = childCpuSeconds(postmasterPid);
  const denoCpuBefore = cpuSeconds(denoPid!);
  const exportFile = path.join(work, 'export.extxyz');
  const t0 = performance.now();
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(exportFile);
  let bytes = 0;
  let frames = 0;
  let tail = '';
  const decoder = new TextDecoder();
  // In parts of at most MAX_EXPORT_LIMIT, as a client takes a long export (X-Next-Cursor).
  let parts = 0;
  for (let cursor: string | null = null, taken = 0; taken < EXPORT_N; parts += 1) {
    const limit = Math.min(EXPORT_N - taken, MAX_EXPORT_LIMIT);
    const url: string = `${base}/export?format=extxyz&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res: Response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`export: HTTP ${res.status}`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      const text = tail + decoder.decode(chunk, { stream: true });
      frames += text.split('\nProperties=').length - 1; // every comment line follows an atom count
      tail = text.slice(-11); // shorter than the marker: never counted twice
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    taken += limit;
    cursor = res.headers.get(NEXT_CURSOR_HEADER);
    if (!cursor) break;
  }
  await new Promise<void>((r) => out.end(() => r()));
  const exportS = (performance.now() - t0) / 1000;
  const denoCpu = cpuSeconds(denoPid!) - denoCpuBefore;
  const pgCpu = cpuSpent(pgCpuBefore, childCpuSeconds(postmasterPid));
  sampling = false;
  await sampler;
  if (frames !== EXPORT_N) console.warn(`export wrote ${frames} frames, expected ${EXPORT_N}`);

  // --- 4. disk --------------------------------------------------------------------------------
  const sizes = await sql`
    select t as table_name, pg_total_relation_size(('public.' || t)::regclass)::bigint as bytes,
           pg_relation_size(('public.' || t)::regclass)::bigint as heap
      from unnest(array['calculations', 'atomic_properties', 'molecules']) t`;
  const [{ total }] = await sql`select count(*)::bigint as total from public.calculations`;
  // Beside the data: the event log (one event per calculation written; purge_event_logs keeps it
  // bounded) and the kept counters and histogram cells.
  const beside = await sql`
    select t as table_name, pg_total_relation_size(('public.' || t)::regclass)::bigint as bytes
      from unnest(array['event_logs', 'histogram_cells', 'user_stats_slots']) t`;
  const diskBytes = sizes.reduce((s, r) => s + Number(r.bytes), 0);
  const perCalc = diskBytes / Number(total);

  // --- 5. ase.db ------------------------------------------------------------------------------
  const aseDb = path.join(work, 'ase.db');
  const aseScript = `
import sys, time, ase.io, ase.db
path, dbpath, n, elo, ehi, hev = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
t = time.time()
db = ase.db.connect(dbpath)
with db:
    for i, atoms in enumerate(ase.io.iread(path, index=':')):
        if i >= n: break
        gap = atoms.info.get('homo_lumo_gap')
        kv = {'gap': float(gap)} if gap is not None else {}
        db.write(atoms, key_value_pairs=kv, data=None)
load = time.time() - t
q = 'energy>=%r,energy<=%r,gap>=4,gap<=9' % (elo * hev, ehi * hev)
times = []
for _ in range(5):
    t = time.time()
    rows = list(db.select(q, sort='energy', limit=100))
    times.append(time.time() - t)
times.sort()
print('%d %f %f %d' % (db.count(), load, times[len(times) // 2], len(rows)))
`;
  const { HARTREE_EV } = await import('../shared/units.ts');
  const aseOut = await run('/usr/bin/python3', ['-c', aseScript, exportFile, aseDb, String(ASE_N), String(eLo), String(eHi), String(HARTREE_EV)],
    { maxBuffer: 16 * 1024 * 1024, timeout: 3 * 3600 * 1000 });
  const [aseRows, aseLoadS, aseQueryS, aseHits] = aseOut.stdout.trim().split(/\s+/).map(Number);
  // Ours on the same rows: the range page restricted to the exported (oldest) calculations.
  const [edge] = await sql`select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
    from public.calculations where user_id = ${userId} order by created_at, id offset ${ASE_N} limit 1`;
  const sameRows = await measure(`calculations?${range}${edge ? `&created_before=${edge.t}` : ''}`);

  // --- 6. plans -------------------------------------------------------------------------------
  await writePlans(sql, userId, { eLo, eHi, formula, deepCursor: deepCursor! });

  // --- report ---------------------------------------------------------------------------------
  const ratioAse = (aseQueryS * 1000) / sameRows.p50;
  const body = table(['measure', 'p50 ms', 'p95 ms', 'goal'], [
    ['range page (energy + gap, 100 rows, page 1)', latency.page1.p50, latency.page1.p95, `p95 ≤ 10 ms: ${latency.page1.p95 <= 10 ? 'met' : 'MISSED'}`],
    [`same query, page ${DEEP_PAGE} by cursor`, latency.deep.p50, latency.deep.p95, `p95 ≤ 10 ms: ${latency.deep.p95 <= 10 ? 'met' : 'MISSED'}`],
    [`formula lookup (${formula}, 100 rows)`, latency.formula.p50, latency.formula.p95, `p95 ≤ 10 ms: ${latency.formula.p95 <= 10 ? 'met' : 'MISSED'}`],
    ['/stats (counters + 2 histograms of 20 bins)', latency.stats.p50, latency.stats.p95, `p95 ≤ 50 ms: ${latency.stats.p95 <= 50 ? 'met' : 'MISSED'}`],
    ['  in SQL: database_stats (counters)', statsParts.counters.p50, statsParts.counters.p95, ''],
    [`  in SQL: calculation_histograms(20) from ${blocks.toLocaleString('en-US')} kept blocks and the cells the edges cut`, statsParts.histograms.p50, statsParts.histograms.p95, ''],
    [`  baseline in SQL: summing all ${cells.toLocaleString('en-US')} kept cells (the read before blocks, first step)`, statsParts.everyCell.p50, statsParts.everyCell.p95, ''],
    ['  baseline in SQL: the 2 histograms recounted over every calculation', statsParts.recount.p50, statsParts.recount.p95, ''],
    [`range page over the ${ASE_N.toLocaleString('en-US')} ase.db rows (ours)`, sameRows.p50, sameRows.p95, ''],
    [`same query in ase.db (SQLite, ${aseRows.toLocaleString('en-US')} rows, ${aseHits} returned)`, aseQueryS * 1000, '', `≥ 10× slower than ours: ${ratioAse >= 10 ? 'met' : 'MISSED'} (${ratioAse.toFixed(0)}×)`],
  ]);
  const exportRate = EXPORT_N / exportS;
  const extra = [
    `- export: ${EXPORT_N.toLocaleString('en-US')} calculations as extxyz in ${exportS.toFixed(1)} s = ${Math.round(exportRate).toLocaleString('en-US')} calculations/s, ` +
      `${(bytes / 1e6 / exportS).toFixed(1)} MB/s (${(bytes / 1e6).toFixed(0)} MB) — goal ≥ 20,000/s: ${exportRate >= 20_000 ? 'met' : 'MISSED'}`,
    `- where the export's time went: PostgreSQL ${pgCpu.toFixed(1)} CPU s (rendering the text: one backend, so at most ` +
      `${Math.round(EXPORT_N / pgCpu).toLocaleString('en-US')} calculations/s on an idle core), Deno ${denoCpu.toFixed(2)} CPU s ` +
      `(${(denoCpu / EXPORT_N * 1e5).toFixed(2)} s per 10^5, hosted limit 2 s per request), wall ${exportS.toFixed(1)} s`,
    `- Deno functions process RSS: ${rssBefore.toFixed(0)} MB before the export, peak ${rssPeak.toFixed(0)} MB during it (flat: the export is streamed)`,
    `- disk: ${(perCalc).toFixed(0)} bytes per calculation (calculations + atomic_properties + molecules, tables and indexes: ` +
      sizes.map((r) => `${r.table_name} ${(Number(r.bytes) / 1e6).toFixed(0)} MB`).join(', ') + `) — goal ≤ 2,600: ${perCalc <= 2600 ? 'met' : 'MISSED'}`,
    `- beside the data: ` + beside.map((r) => `${r.table_name} ${(Number(r.bytes) / 1e6).toFixed(1)} MB`).join(', '),
    `- ase.db: loaded ${aseRows.toLocaleString('en-US')} frames of the export in ${aseLoadS.toFixed(0)} s; its query ${(aseQueryS * 1000).toFixed(0)} ms ` +
      `vs ours ${sameRows.p50.toFixed(1)} ms (p50 over HTTP) = ${ratioAse.toFixed(0)}× faster`,
  ];
  extra.push(`- machine load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) on ${os.cpus().length} cores, ` +
    'shared with other work: latencies include that contention');
  for (const l of extra) note(l);
  await appendResults('bench:query', `${N.toLocaleString('en-US')} calculations for one user; ${REQUESTS} sequential HTTP requests per measure; plans in bench/plans/\n\n${lines.filter((l) => !extra.includes(l)).join('\n')}`,
    body + '\n\n' + extra.join('\n'));
} finally {
  await sql.end();
  await rm(work, { recursive: true, force: true });
  await destroy();
}

/** EXPLAIN (ANALYZE, BUFFERS) of the benchmark's queries, run as the user under RLS. */
async function writePlans(sql: postgres.Sql, userId: string, q: { eLo: number; eHi: number; formula: string; deepCursor: string }) {
  const dir = repoPath('bench/plans');
  await mkdir(dir, { recursive: true });
  const cursor = JSON.parse(Buffer.from(q.deepCursor, 'base64url').toString());
  const columns = `c.id, c.molecule_id, m.canonical_smiles, m.inchikey, m.formula, m.n_atoms, c.method, c.task, c.solvent,
    c.status, c.total_energy_eh, c.homo_lumo_gap_ev, c.dipole_debye, c.dipole_au, c.tags, c.metadata, c.created_at`;
  const from = 'public.calculations c join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id';
  const plans: [string, string, string][] = [
    ['range-page-1', 'energy + gap range, 100 rows by energy: the (user_id, total_energy_eh, id) index read in order, gap checked on the way', `
      select ${columns} from ${from}
       where c.total_energy_eh >= ${q.eLo} and c.total_energy_eh <= ${q.eHi} and c.homo_lumo_gap_ev >= 4 and c.homo_lumo_gap_ev <= 9
         and c.total_energy_eh is not null
       order by c.total_energy_eh, c.id limit 101`],
    ['range-page-deep', `the same query at page ${DEEP_PAGE}: the keyset (total_energy_eh, id) > cursor is an index condition, so it starts where page ${DEEP_PAGE - 1} ended`, `
      select ${columns} from ${from}
       where c.total_energy_eh >= ${q.eLo} and c.total_energy_eh <= ${q.eHi} and c.homo_lumo_gap_ev >= 4 and c.homo_lumo_gap_ev <= 9
         and c.total_energy_eh is not null and (c.total_energy_eh, c.id) > (${cursor.v}::float8, '${cursor.id}'::uuid)
       order by c.total_energy_eh, c.id limit 101`],
    ['formula-lookup', 'formula: molecules (user_id, formula), then each molecule\'s calculations', `
      select ${columns} from ${from} where m.formula = '${q.formula}' order by c.created_at, c.id limit 101`],
    ['stats-histogram-cells', 'the baseline of the /stats histograms: every kept cell of the caller (histogram_cells, primary key range on user_id) summed over slots, as the read did before histogram_blocks', `
      select h.quantity, h.cell, sum(h.n) from public.histogram_cells h group by h.quantity, h.cell having sum(h.n) <> 0`],
  ];
  for (const [name, why, query] of plans) {
    const text = await sql.begin(async (tx) => {
      await actAs(tx, API_ROLE, userId);
      await tx.unsafe('explain (analyze, buffers) ' + query); // warm
      const rows = await tx.unsafe('explain (analyze, buffers) ' + query);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    await writeFile(path.join(dir, `${name}.txt`),
      `-- ${why}\n-- ${N.toLocaleString('en-US')} calculations, as role authenticated under RLS, ${new Date().toISOString().slice(0, 10)}\n` +
      `${query.trim().replace(/^\s+/gm, '  ')}\n\n${text}\n`);
  }
}
