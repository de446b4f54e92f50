// Stats views: database_stats (trigger-kept counters) agrees with a plain recount after inserts,
// status and method changes, deletes and concurrent writers; batch_progress shows what it
// promises.
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { actAs, adminSql, API_ROLE, asRole } from '../support/db.ts';
import { newUser } from '../support/users.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';

/** database_stats as the user sees it, numbers as numbers. */
async function statsOf(userId: string) {
  const rows = await asRole(API_ROLE, userId, (tx) => tx`select * from public.database_stats`);
  expect(rows).toHaveLength(1);
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, k === 'user_id' ? v : Number(v)]));
}

/** The same numbers counted from the tables. */
async function recount(userId: string) {
  const [row] = await adminSql()`
    select u.id as user_id,
           (select count(*) from public.molecules where user_id = u.id) as molecules,
           (select count(*) from public.calculations where user_id = u.id) as calculations_total,
           (select count(*) from public.calculations where user_id = u.id and status = 'pending') as calculations_pending,
           (select count(*) from public.calculations where user_id = u.id and status = 'running') as calculations_running,
           (select count(*) from public.calculations where user_id = u.id and status = 'completed') as calculations_completed,
           (select count(*) from public.calculations where user_id = u.id and status = 'failed') as calculations_failed,
           (select count(*) from public.calculations where user_id = u.id and method = 'GFN2-xTB') as calculations_gfn2_xtb,
           (select count(*) from public.calculations where user_id = u.id and method = 'GFN1-xTB') as calculations_gfn1_xtb,
           (select count(*) from public.calculations where user_id = u.id and method = 'GFN0-xTB') as calculations_gfn0_xtb,
           (select count(*) from public.calculations where user_id = u.id and method = 'GFN-FF') as calculations_gfn_ff,
           (select count(*) from public.atomic_properties where user_id = u.id) as atoms,
           (select count(*) from public.batch_jobs where user_id = u.id) as batches_total,
           (select count(*) from public.batch_jobs where user_id = u.id and status = 'pending') as batches_pending,
           (select count(*) from public.batch_jobs where user_id = u.id and status = 'running') as batches_running,
           (select count(*) from public.batch_jobs where user_id = u.id and status = 'completed') as batches_completed,
           (select count(*) from public.batch_jobs where user_id = u.id and status = 'failed') as batches_failed,
           (select count(*) from public.batch_jobs where user_id = u.id and status = 'cancelled') as batches_cancelled,
           (select count(*) from public.event_logs where user_id = u.id and created_at > now() - interval '24 hours') as events_last_24h
      from auth.users u where u.id = ${userId}`;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === 'user_id' ? v : Number(v)]));
}

/** Inserts `n` calculations (3 atoms each) of one new molecule in one transaction. */
async function addCalculations(userId: string, n: number, method: string, status: string) {
  return asRole(API_ROLE, userId, async (tx) => {
    const [m] = await tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms, name)
      values ('O', ${fakeInchikey()}, 'H2O', 'O', 3, 'water') returning id`;
    const calcs = await tx`
      insert into public.calculations (molecule_id, method, task, status, total_energy_eh, geometry_sha256)
      select ${m.id}, ${method}, 'sp', ${status}, case when ${status} = 'completed' then -5.07 end,
             encode(sha256(g::text::bytea), 'hex')
        from generate_series(1, ${n}::int) as g
      returning id`;
    await tx`
      insert into public.atomic_properties (calculation_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang)
      select c, a, case a when 0 then 'O' else 'H' end, case a when 0 then 8 else 1 end, 0, 0, a
        from unnest(${calcs.map((c) => c.id)}::uuid[]) as c, generate_series(0, 2) as a`;
    return { moleculeId: m.id as string, calculationIds: calcs.map((c) => c.id as string) };
  });
}

describe('database_stats', () => {
  it('agrees with a recount after inserts, status and method changes, and deletes', async () => {
    const user = await newUser();
    const a = await addCalculations(user.id, 20, 'GFN2-xTB', 'pending');
    const b = await addCalculations(user.id, 7, 'GFN-FF', 'completed');
    await addCalculations(user.id, 3, 'GFN1-xTB', 'running');
    expect(await statsOf(user.id)).toEqual(await recount(user.id));

    await asRole(API_ROLE, user.id, async (tx) => {
      await tx`update public.calculations set status = 'running' where id = any(${a.calculationIds.slice(0, 10)}::uuid[])`;
      await tx`update public.calculations set status = 'failed', error_message = 'x' where id = any(${a.calculationIds.slice(0, 4)}::uuid[])`;
      await tx`update public.calculations set method = 'GFN0-xTB' where id = any(${a.calculationIds.slice(10, 15)}::uuid[])`;
      await tx`update public.calculations set tags = '{no-op for counters}' where id = any(${a.calculationIds}::uuid[])`;
      await tx`delete from public.atomic_properties where calculation_id = ${b.calculationIds[0]}`;
      await tx`delete from public.calculations where id = ${b.calculationIds[1]}`;
      await tx`insert into public.batch_jobs (name) values ('one'), ('two')`;
    });
    const after = await statsOf(user.id);
    expect(after).toEqual(await recount(user.id));
    expect(after).toMatchObject({
      molecules: 3, calculations_total: 29, calculations_failed: 4, calculations_running: 9, calculations_gfn0_xtb: 5,
      atoms: 29 * 3 - 3, batches_total: 2, batches_pending: 2,
    });

    // Deleting a molecule takes its calculations and atoms with it, and the counters follow.
    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.molecules where id = ${a.moleculeId}`);
    const afterDelete = await statsOf(user.id);
    expect(afterDelete).toEqual(await recount(user.id));
    expect(afterDelete).toMatchObject({ molecules: 2, calculations_total: 9, calculations_gfn2_xtb: 0, calculations_gfn0_xtb: 0 });
  });

  it('stays right when two connections write for the same user at once', async () => {
    const user = await newUser();
    const writer = async (method: string) => {
      for (let round = 0; round < 8; round++) await addCalculations(user.id, 25, method, round % 2 ? 'completed' : 'pending');
    };
    await Promise.all([writer('GFN2-xTB'), writer('GFN1-xTB')]);
    const stats = await statsOf(user.id);
    expect(stats).toEqual(await recount(user.id));
    expect(stats).toMatchObject({ molecules: 16, calculations_total: 400, atoms: 1200, calculations_gfn2_xtb: 200 });
  });

  it('lets two sessions of one user write at once: neither waits on the other\'s counters', async () => {
    const user = await newUser();
    // Two sessions in different counter slots (backend pid modulo 16), as pooled connections are.
    const sql = postgres(inject('stack').dbUrl, { max: 8, onnotice: () => {} });
    try {
      const reserved = await Promise.all(Array.from({ length: 8 }, () => sql.reserve()));
      const pids = await Promise.all(reserved.map(async (c) => (await c`select pg_backend_pid() as pid`)[0].pid as number));
      const first = 0;
      const second = pids.findIndex((p) => p % 16 !== pids[first] % 16);
      const [a, b] = [reserved[first], reserved[second]];
      const insertMolecule = (c: postgres.ReservedSql) => c`
        insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
        values ('O', ${fakeInchikey()}, 'H2O', 'O', 3)`;
      for (const c of [a, b]) {
        await c`begin`;
        await actAs(c, API_ROLE, user.id);
      }
      // A holds its counter row until it commits; B's insert must not queue behind it.
      await insertMolecule(a);
      await b`set local lock_timeout = '2s'`;
      await insertMolecule(b);
      await b`commit`;
      await a`commit`;
      for (const c of reserved) c.release();
      expect(await statsOf(user.id)).toEqual(await recount(user.id));
      expect((await statsOf(user.id)).molecules).toBe(2);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('lists a user who has only batches, with zero counts', async () => {
    const user = await newUser();
    await asRole(API_ROLE, user.id, (tx) => tx`insert into public.batch_jobs (name) values ('empty')`);
    expect(await statsOf(user.id)).toEqual({ ...(await recount(user.id)), batches_total: 1, batches_pending: 1 });
  });

  it('answers from the counter row and indexes, not by scanning calculations', async () => {
    const user = await newUser();
    await addCalculations(user.id, 5, 'GFN2-xTB', 'completed');
    const plan = await asRole(API_ROLE, user.id, async (tx) => {
      await tx`set local enable_seqscan = off`;
      const rows = await tx`explain (format json) select * from public.database_stats`;
      return JSON.stringify(rows[0]['QUERY PLAN']);
    });
    const relations = new Set([...plan.matchAll(/"Relation Name":"(\w+)"/g)].map((m) => m[1]));
    // events_last_24h is a function call (events_last_24h: kept per-minute counts, test/db/event-counts.test.ts).
    expect([...relations].sort()).toEqual(['batch_jobs', 'user_stats_slots']);
  });
});

/**
 * A batch of ten items of one molecule, five of them completed, made by the user under RLS;
 * `then` changes it further in the same transaction.
 */
async function halfDoneBatch(
  userId: string, moleculeId: string, name: string,
  then?: (tx: postgres.TransactionSql, batchId: string) => Promise<unknown>,
): Promise<string> {
  return asRole(API_ROLE, userId, async (tx) => {
    const [b] = await tx`insert into public.batch_jobs (name) values (${name}) returning id`;
    await tx`insert into public.batch_items (batch_job_id, molecule_id) select ${b.id}, ${moleculeId} from generate_series(1, 10)`;
    await tx`
      update public.batch_items set status = 'completed'
       where id in (select id from public.batch_items where batch_job_id = ${b.id} order by id limit 5)`;
    await then?.(tx, b.id);
    return b.id as string;
  });
}

describe('batch_progress', () => {
  it('reports percent done, recent rate and an ETA for a running batch', async () => {
    const user = await newUser();
    const { moleculeId } = await addCalculations(user.id, 1, 'GFN2-xTB', 'completed');
    // Four finished in the last ten minutes, one long ago (not part of the rate), five left.
    const batchId = await halfDoneBatch(user.id, moleculeId, 'progress', (tx, id) => tx`
      update public.batch_items set completed_at = now() - interval '1 hour'
       where id in (select id from public.batch_items where batch_job_id = ${id} and status = 'completed' order by id limit 1)`);
    // Running for over 10 minutes: the rate is the last 10 minutes' items over 10 minutes.
    await adminSql()`update public.batch_jobs set started_at = now() - interval '1 hour' where id = ${batchId}`;
    const [row] = await asRole(API_ROLE, user.id, (tx) => tx`
      select status, total_items, completed_items, pending_items,
             percent_done::float8 as percent_done, items_per_minute::float8 as items_per_minute,
             eta_seconds::float8 as eta_seconds,
             extract(epoch from estimated_completion_at - now())::float8 as eta_from_now
        from public.batch_progress where batch_job_id = ${batchId}`);
    expect(row).toMatchObject({
      status: 'running', total_items: 10, completed_items: 5, pending_items: 5,
      percent_done: 50, items_per_minute: 0.4, eta_seconds: 750,
    });
    expect(row.eta_from_now).toBeCloseTo(750, 0);
  });

  it('reads the rate of a burst right after the start over the time the batch has run', async () => {
    const user = await newUser();
    const { moleculeId } = await addCalculations(user.id, 1, 'GFN2-xTB', 'completed');
    const batchId = await halfDoneBatch(user.id, moleculeId, 'burst');
    // Five items done 3 s after the start (one transaction, so now() is one instant): 100 a
    // minute, and the five left take 3 s more; a fixed 10-minute divisor would say 0.5 and 10 min.
    const [row] = await adminSql().begin(async (tx) => {
      await tx`update public.batch_jobs set started_at = now() - interval '3 seconds' where id = ${batchId}`;
      await tx`update public.batch_items set completed_at = now() where batch_job_id = ${batchId} and status = 'completed'`;
      return tx`
        select items_per_minute::float8 as items_per_minute, eta_seconds::float8 as eta_seconds
          from public.batch_progress where batch_job_id = ${batchId}`;
    });
    expect(row).toEqual({ items_per_minute: 100, eta_seconds: 3 });
  });
});
