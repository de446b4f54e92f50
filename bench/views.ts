// npm run bench:views — the stats views at 10^6 calculations.
//
// Seeds one user with BENCH_N (default 10^6) calculations of 20 atoms each (C6H14 isomers) by
// COPY, streamed with postgres.js: calculations on one connection and, chunk by chunk once their
// calculations are committed, their atoms on a second one. Every trigger fires as for any insert
// (events, user_stats, foreign keys). Adds a small second user (so row-level security has rows to
// hide) and 20 batches of 1,000 items in several states. Then times each view the way the
// functions read it: as `authenticated` with the user's claims, RLS on; and the plain count(*)
// that database_stats avoids, checking on the way that the trigger-kept counters agree with it.
//
// The data is shaped for volume, not chemistry (bench/seed-calculations.ts makes realistic rows
// for query benchmarks, at several times the generation cost).
//
//   npm run bench:views                                  # own stack in /tmp, removed afterwards
//   SUPABASE_DB_URL=postgresql://… npm run bench:views   # an existing database (adds bench users)
//   BENCH_N=100000 npm run bench:views                   # smaller
//   BENCH_RESULTS=0 npm run bench:views                  # do not append to bench/RESULTS.md
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startTestStack, type TestStack } from '../test/support/stack.ts';
import { actAs, API_ROLE } from '../test/support/db.ts';
import { appendResults } from './lib/results.ts';
import { HEXANES, rng } from './lib/synthetic.ts';
import { percentile, table } from './lib/table.ts';
import { finished, write } from './lib/copy-stream.ts';
import { fakeInchikey } from '../test/support/sql-helpers.ts';
import { insertUser } from '../test/support/users.ts';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHUNK = 100_000;
const MOLECULES = 1_000;
const BATCHES = 20;
const ITEMS_PER_BATCH = 1_000;

let stack: TestStack | undefined;
const dbUrl = process.env.SUPABASE_DB_URL || (stack = await startTestStack()).dbUrl;
const sql = postgres(dbUrl, { max: 4, onnotice: () => {} });

/** Runs `query` in one transaction as an API role with the user's claims, as the functions do. */
async function asUser<T>(role: 'authenticated' | 'service_role', userId: string | null, query: (tx: postgres.TransactionSql) => PromiseLike<T>): Promise<T> {
  return sql.begin(async (tx) => {
    // A user's token runs as the functions' own role (the Data API's `authenticated` holds nothing).
    await actAs(tx, role === 'authenticated' ? API_ROLE : role, userId ?? undefined);
    return query(tx);
  }) as Promise<T>;
}

const newUser = (): Promise<string> => insertUser(sql);

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const fmt = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Seeding by COPY

/** The 20 atoms of a hexane as COPY text after `calculation_id \t user_id \t`: one line each. */
const ATOM_SUFFIXES = Array.from({ length: 20 }, (_, a) => {
  const carbon = a < 6;
  const x = (a * 0.9).toFixed(4);
  const y = ((a % 3) * 1.1).toFixed(4);
  const z = ((a % 2) * 0.7).toFixed(4);
  return `\t${a}\t${carbon ? 'C' : 'H'}\t${carbon ? 6 : 1}\t${x}\t${y}\t${z}\t${carbon ? '-0.1' : '0.04'}\t\\N\t\\N\t\\N\n`;
});

const METHODS = ['GFN2-xTB', 'GFN2-xTB', 'GFN2-xTB', 'GFN2-xTB', 'GFN2-xTB', 'GFN2-xTB', 'GFN1-xTB', 'GFN1-xTB', 'GFN0-xTB', 'GFN-FF'];

/**
 * `n` calculations for `userId` (90 % completed, some failed, running and pending; created_at
 * spread over the last year in id order) and their 20 atoms each.
 */
async function seed(userId: string, n: number, onProgress?: (done: number) => void): Promise<void> {
  const random = rng(7);
  const molecules = Array.from({ length: MOLECULES }, (_, i) => ({
    user_id: userId, canonical_smiles: HEXANES[i % HEXANES.length], inchikey: fakeInchikey(), molecule_key: fakeInchikey(), formula: 'C6H14',
    input_smiles: HEXANES[i % HEXANES.length], n_atoms: 20, name: `bench hexane ${i}`,
  }));
  const moleculeIds = (await sql`insert into public.molecules ${sql(molecules)} returning id`).map((r) => r.id as string);

  const runPrefix = randomBytes(4).toString('hex');
  const idOf = (i: number) => {
    const h = i.toString(16).padStart(12, '0');
    return `${runPrefix}-0000-7000-8000-${h}`;
  };
  const yearMs = 365 * 86_400_000;
  const t0 = Date.now() - yearMs;

  const atomConn = await sql.reserve();
  let atomsDone = Promise.resolve();
  try {
    for (let done = 0; done < n; done += CHUNK) {
      const size = Math.min(CHUNK, n - done);
      const copy = await sql`
        copy public.calculations (id, user_id, molecule_id, method, task, solvent, status, total_energy_eh,
          homo_lumo_gap_ev, dipole_debye, converged, wall_time_s, xtb_version, geometry_sha256, source,
          error_message, started_at, completed_at, created_at, updated_at)
        from stdin`.writable();
      const copied = finished(copy);
      let text = '';
      for (let k = 0; k < size; k++) {
        const i = done + k;
        const created = new Date(t0 + Math.floor((i / n) * yearMs)).toISOString();
        const r = random();
        const status = r < 0.9 ? 'completed' : r < 0.95 ? 'failed' : r < 0.98 ? 'running' : 'pending';
        const method = METHODS[i % METHODS.length];
        const done_ = status === 'completed';
        const energy = done_ ? (-20.5 + random()).toFixed(8) : '\\N';
        const gap = done_ && method !== 'GFN-FF' ? (3 + 5 * random()).toFixed(5) : '\\N';
        const dipole = done_ && method !== 'GFN-FF' ? (4 * random()).toFixed(5) : '\\N';
        const sha = randomBytes(32).toString('hex');
        const error = status === 'failed' ? 'SCF did not converge' : '\\N';
        const finishedAt = status === 'completed' || status === 'failed' ? created : '\\N';
        text += `${idOf(i)}\t${userId}\t${moleculeIds[i % MOLECULES]}\t${method}\t${i % 3 ? 'sp' : 'opt'}\t` +
          `${i % 4 ? '\\N' : 'water'}\t${status}\t${energy}\t${gap}\t${dipole}\t${done_ ? 't' : '\\N'}\t0.08\t6.5.1\t${sha}\t` +
          `bench:views\t${error}\t${created}\t${finishedAt}\t${created}\t${created}\n`;
        if (text.length > 1 << 20) {
          await write(copy, text);
          text = '';
        }
      }
      copy.end(text);
      await copied;

      // The atoms of this chunk, while the next chunk of calculations is generated and copied.
      await atomsDone;
      atomsDone = (async () => {
        const atomCopy = await atomConn`
          copy public.atomic_properties (calculation_id, user_id, atom_index, element, atomic_number,
            x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr)
          from stdin`.writable();
        const atomsCopied = finished(atomCopy);
        let atoms = '';
        for (let k = 0; k < size; k++) {
          const head = `${idOf(done + k)}\t${userId}`;
          for (const suffix of ATOM_SUFFIXES) atoms += head + suffix;
          if (atoms.length > 1 << 20) {
            await write(atomCopy, atoms);
            atoms = '';
          }
        }
        atomCopy.end(atoms);
        await atomsCopied;
        onProgress?.(done + size);
      })();
    }
    await atomsDone;
  } finally {
    atomConn.release();
  }
}

// ---------------------------------------------------------------------------------------------

try {
  const user = await newUser();
  const other = await newUser();
  let t0 = performance.now();
  await seed(user, N, (done) => process.stderr.write(`seeded ${fmt(done)} / ${fmt(N)} calculations with atoms (${seconds(t0).toFixed(0)} s)\n`));
  await seed(other, Math.min(10_000, N));
  const seedS = seconds(t0);

  // Batches: 1,000 items each over the user's molecules; batch b has b/20 of its items finished
  // (within the last 10 minutes, every tenth failed), the rest pending.
  t0 = performance.now();
  await asUser('authenticated', user, async (tx) => {
    const moleculeIds = (await tx`select id from public.molecules where user_id = ${user} order by id limit 100`).map((r) => r.id);
    for (let b = 0; b < BATCHES; b++) {
      const [job] = await tx`insert into public.batch_jobs (name, priority) values (${`bench batch ${b}`}, ${b % 3}) returning id`;
      await tx`
        insert into public.batch_items (batch_job_id, molecule_id)
        select ${job.id}, (${moleculeIds}::uuid[])[1 + g % 100] from generate_series(1, ${ITEMS_PER_BATCH}::int) as g`;
      await tx`
        update public.batch_items set status = 'claimed', claimed_by = 'runner:bench', attempts = 1, total_attempts = 1,
               lease_expires_at = now() + interval '5 minutes'
         where id in (select id from public.batch_items where batch_job_id = ${job.id}
                       order by id limit ${Math.floor((ITEMS_PER_BATCH * b) / BATCHES)})`;
      await tx`
        update public.batch_items set status = case when hashtext(id::text) % 10 = 0 then 'failed' else 'completed' end
         where batch_job_id = ${job.id} and status = 'claimed'`;
    }
  });
  const batchS = seconds(t0);

  // What autovacuum does soon after a bulk load: visibility map and planner statistics.
  t0 = performance.now();
  await sql`vacuum (analyze) public.calculations, public.molecules, public.atomic_properties, public.event_logs,
                     public.user_stats, public.batch_jobs, public.batch_items`;
  const vacuumS = seconds(t0);

  const [sizes] = await sql`
    select (select count(*) from public.calculations)::int as calculations,
           (select count(*) from public.atomic_properties)::int as atoms,
           (select count(*) from public.event_logs)::int as events,
           pg_size_pretty(pg_database_size(current_database())) as db_size`;
  console.log(`seeded in ${seedS.toFixed(0)} s, batches in ${batchS.toFixed(1)} s, vacuum analyze in ${vacuumS.toFixed(0)} s`);
  console.log(`database: ${fmt(sizes.calculations)} calculations, ${fmt(sizes.atoms)} atom rows, ${fmt(sizes.events)} events, ${sizes.db_size}`);

  // The trigger-kept counters agree with a recount.
  const [stats] = await asUser('authenticated', user, (tx) => tx`select * from public.database_stats`);
  const [recount] = await sql`
    select count(*) as calculations_total,
           count(*) filter (where status = 'completed') as calculations_completed,
           count(*) filter (where status = 'failed') as calculations_failed,
           count(*) filter (where method = 'GFN2-xTB') as calculations_gfn2_xtb,
           count(*) filter (where method = 'GFN-FF') as calculations_gfn_ff,
           (select count(*) from public.atomic_properties where user_id = ${user}) as atoms,
           (select count(*) from public.molecules where user_id = ${user}) as molecules
      from public.calculations where user_id = ${user}`;
  for (const [key, value] of Object.entries(recount)) {
    if (Number(stats[key]) !== Number(value)) {
      throw new Error(`database_stats.${key} is ${stats[key]}, a recount gives ${value}`);
    }
  }

  // Timings.
  type Case = { name: string; role: 'authenticated' | 'service_role'; query: (tx: postgres.TransactionSql) => PromiseLike<readonly unknown[]> };
  const cases: Case[] = [
    { name: 'database_stats (own row)', role: 'authenticated', query: (tx) => tx`select * from public.database_stats` },
    { name: 'database_stats (service_role: every user)', role: 'service_role', query: (tx) => tx`select * from public.database_stats` },
    { name: 'reference: count(*) by status and method', role: 'authenticated', query: (tx) => tx`
        select status, method, count(*) from public.calculations group by status, method` },
    { name: `batch_progress (${BATCHES} batches)`, role: 'authenticated', query: (tx) => tx`select * from public.batch_progress` },
  ];

  const rows: (string | number)[][] = [];
  for (const c of cases) {
    const times: number[] = [];
    let returned = 0;
    for (let run = 0; run <= RUNS; run++) {
      const start = performance.now();
      const result = await asUser(c.role, c.role === 'authenticated' ? user : null, c.query);
      if (run > 0) times.push(performance.now() - start); // run 0 warms the cache
      returned = result.length;
    }
    times.sort((a, b) => a - b);
    rows.push([c.name, String(returned), percentile(times, 50), percentile(times, 95)]);
  }

  console.log('');
  const out = table(['query (as the user, RLS on, round trip)', 'rows', 'median ms', 'p95 ms'], rows);
  console.log(`\ndatabase_stats.events_last_24h of the bench user: ${fmt(Number(stats.events_last_24h))} ` +
    '(an index range count on event_logs (user_id, created_at); everything else in the row is a trigger-kept counter)');

  if (process.env.BENCH_RESULTS !== '0') {
    await appendResults('bench:views',
      `${fmt(sizes.calculations)} calculations (20 atoms each), ${fmt(sizes.atoms)} atom rows, ${fmt(sizes.events)} events ` +
      `(${sizes.db_size}); ${BATCHES} batches of ${fmt(ITEMS_PER_BATCH)} items; after VACUUM ANALYZE; ` +
      `median and p95 of ${RUNS} runs after one warm-up. Seeding by COPY with all triggers: ${seedS.toFixed(0)} s.`,
      out);
  }
} finally {
  await sql.end();
  await stack?.destroy();
}
