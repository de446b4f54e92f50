// Event logging by triggers: one event per state change, written by statement-level triggers
// (a 5,000-row insert is one trigger call), none for a no-op update, and an append-only log.
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { actAs, adminSql, API_ROLE, asRole } from '../support/db.ts';
import { newUser } from '../support/users.ts';
import { fakeInchikey, errorOf } from '../support/sql-helpers.ts';

async function newMolecule(userId: string): Promise<string> {
  const [m] = await asRole(API_ROLE, userId, (tx) => tx`
    insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
    values ('CCO', ${fakeInchikey()}, 'C2H6O', 'OCC', 9) returning id`);
  return m.id;
}

/** event_type per entity, oldest first. */
async function eventsOf(entityIds: string[]): Promise<{ entity_id: string; event_type: string; payload: any }[]> {
  return adminSql()`
    select entity_id, event_type, payload from public.event_logs
     where entity_id = any(${entityIds}::uuid[]) order by id`;
}

describe('event logging', () => {
  it('a 5,000-row insert writes exactly 5,000 calculation_completed events in one trigger call', async () => {
    const user = await newUser();
    const moleculeId = await newMolecule(user.id);
    // Ingest names each row's specification; a row inserted without one gets the default from a
    // row trigger (for SQL written by hand), which is not what this test measures.
    const [spec] = await adminSql()`
      insert into public.specifications (user_id, spec)
      values (${user.id}, public.xtb_specification('GFN2-xTB', 'sp', null, '{}'))
      on conflict (user_id, spec_hash) do update set spec = excluded.spec returning id`;

    const { ids, calls } = await adminSql().begin(async (tx) => {
      // Count function calls of this transaction only (pg_stat_xact_user_functions), then act
      // exactly as the functions do: claims set, role switched.
      await tx`select set_config('track_functions', 'all', true)`;
      await actAs(tx, API_ROLE, user.id);
      const rows = await tx`
        insert into public.calculations (molecule_id, specification_id, method, task, status, total_energy_eh, geometry_sha256)
        select ${moleculeId}, ${spec.id}, 'GFN2-xTB', 'sp', 'completed', -5.0 - g * 1e-6, encode(sha256(g::text::bytea), 'hex')
          from generate_series(1, 5000) as g
        returning id`;
      const stats = await tx`
        select funcname, calls::int from pg_stat_xact_user_functions where schemaname = 'public' order by funcname`;
      // structure_group is the expression of calculations_structure_idx: when this insert doubles
      // the table, the young-table check's ANALYZE evaluates it on the rows it samples.
      const counted = stats.filter((s) => s.funcname !== 'structure_group');
      return { ids: rows.map((r) => r.id as string), calls: Object.fromEntries(counted.map((s) => [s.funcname, s.calls])) };
    });

    expect(ids).toHaveLength(5000);
    // However many rows: one call of each statement-level trigger on calculations (events and
    // counters and histogram cells, which look up their slot once each and their two cell widths
    // once per plan, twice: blocks then cells, each of the 7 blocks named once; the event log's
    // per-minute counts, once for the 5,000 events; the young-table check, once), and one
    // updated_at stamp on the one user_stats_slots row those counters moved.
    expect(calls).toEqual({
      calculations_log_events: 1, calculations_count_user_stats: 1, calculations_count_histograms: 1, analyze_while_young: 1,
      add_histogram_cells: 1, histogram_cells_of: 2, histogram_cell_width: 4, histogram_block: 7,
      event_logs_count_minutes: 1, user_stats_slot: 4, set_updated_at: 1,
    });

    const [events] = await adminSql()`
      select count(*)::int as n, count(distinct entity_id)::int as distinct_ids,
             count(*) filter (where event_type = 'calculation_completed' and entity_type = 'calculation')::int as completed
        from public.event_logs
       where user_id = ${user.id} and entity_type = 'calculation'`;
    expect(events).toEqual({ n: 5000, distinct_ids: 5000, completed: 5000 });
    const [unmatched] = await adminSql()`
      select count(*)::int as n from unnest(${ids}::uuid[]) as c(id)
       where not exists (select 1 from public.event_logs e where e.entity_id = c.id and e.event_type = 'calculation_completed')`;
    expect(unmatched.n).toBe(0);
  });

  it('writes one event per status change: started, completed, failed; none for a retry', async () => {
    const user = await newUser();
    const moleculeId = await newMolecule(user.id);
    const [a, b] = await asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.calculations (molecule_id, method, task, charge)
      values (${moleculeId}, 'GFN2-xTB', 'opt', 0), (${moleculeId}, 'GFN2-xTB', 'opt', 1)
      returning id`);
    expect(await eventsOf([a.id, b.id])).toEqual([]); // pending is not an event

    await asRole(API_ROLE, user.id, (tx) => tx`update public.calculations set status = 'running' where id in (${a.id}, ${b.id})`);
    await asRole(API_ROLE, user.id, (tx) => tx`
      update public.calculations set status = 'completed', total_energy_eh = -15.2 where id = ${a.id}`);
    await asRole(API_ROLE, user.id, (tx) => tx`
      update public.calculations set status = 'failed', error_message = 'SCF did not converge' where id = ${b.id}`);
    await asRole(API_ROLE, user.id, (tx) => tx`update public.calculations set status = 'pending' where id = ${b.id}`);
    await asRole(API_ROLE, user.id, (tx) => tx`
      update public.calculations set status = 'completed', total_energy_eh = -15.1 where id = ${b.id}`);

    const events = await eventsOf([a.id, b.id]);
    const of = (id: string) => events.filter((e) => e.entity_id === id);
    expect(of(a.id).map((e) => e.event_type)).toEqual(['calculation_started', 'calculation_completed']);
    expect(of(b.id).map((e) => e.event_type)).toEqual(['calculation_started', 'calculation_failed', 'calculation_completed']);
    expect(of(a.id)[1].payload).toMatchObject({ status: 'completed', previous_status: 'running', total_energy_eh: -15.2, method: 'GFN2-xTB' });
    expect(of(b.id)[1].payload).toMatchObject({ status: 'failed', previous_status: 'running', error_message: 'SCF did not converge' });
    expect(of(b.id)[2].payload).toMatchObject({ status: 'completed', previous_status: 'pending' });
  });

  it('writes no event, and keeps updated_at, for an update that changes nothing', async () => {
    const user = await newUser();
    const moleculeId = await newMolecule(user.id);
    const [c] = await asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.calculations (molecule_id, method, task, status, total_energy_eh)
      values (${moleculeId}, 'GFN1-xTB', 'sp', 'completed', -4.2) returning id, updated_at`);
    const [before] = await adminSql()`select count(*)::int as n from public.event_logs where user_id = ${user.id}`;

    const updated = await asRole(API_ROLE, user.id, (tx) => tx`
      update public.calculations set status = status, total_energy_eh = total_energy_eh, tags = tags
       where id = ${c.id} returning updated_at`);
    expect(updated).toHaveLength(1);
    expect(updated[0].updated_at).toEqual(c.updated_at);
    await asRole(API_ROLE, user.id, (tx) => tx`update public.molecules set name = name where id = ${moleculeId}`);
    // A change that is not a status change is not an event either.
    await asRole(API_ROLE, user.id, (tx) => tx`update public.calculations set tags = '{checked}' where id = ${c.id}`);

    const [after] = await adminSql()`select count(*)::int as n from public.event_logs where user_id = ${user.id}`;
    expect(after.n).toBe(before.n);
  });

  it('logs molecules created and deleted, and the calculations deleted with them', async () => {
    const user = await newUser();
    const moleculeId = await newMolecule(user.id);
    const [c] = await asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.calculations (molecule_id, method, task) values (${moleculeId}, 'GFN-FF', 'opt') returning id`);
    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.molecules where id = ${moleculeId}`);

    const events = await eventsOf([moleculeId, c.id]);
    expect(events.map((e) => [e.entity_id, e.event_type])).toEqual([
      [moleculeId, 'molecule_created'],
      [moleculeId, 'molecule_deleted'],
      [c.id, 'calculation_deleted'],
    ]);
    expect(events[0].payload).toMatchObject({ canonical_smiles: 'CCO', formula: 'C2H6O' });
  });

  it('lets the functions (as a user) add performance_metric events for themselves only', async () => {
    const user = await newUser();
    const [{ id }] = await asRole(API_ROLE, user.id, (tx) =>
      tx`select public.log_performance_metric('{"function": "ingest", "ms": 41.5}'::jsonb) as id`);
    const [row] = await adminSql()`select event_type, entity_type, user_id, payload from public.event_logs where id = ${id}`;
    expect(row).toEqual({ event_type: 'performance_metric', entity_type: 'function', user_id: user.id, payload: { function: 'ingest', ms: 41.5 } });

    const notObject = await errorOf(asRole(API_ROLE, user.id, (tx) => tx`select public.log_performance_metric('[1]'::jsonb)`));
    expect(notObject.code).toBe('22023');
    const noUser = await errorOf(asRole('service_role', undefined, (tx) => tx`select public.log_performance_metric('{}'::jsonb)`));
    expect(noUser.code).toBe('42501');
  });
});

describe('event_logs is append-only', () => {
  const attempts = (userId: string): [string, (tx: postgres.TransactionSql) => Promise<unknown>][] => [
    ['insert', (tx) => tx`insert into public.event_logs (event_type, entity_type, user_id) values ('error', 'function', ${userId})`],
    ['update', (tx) => tx`update public.event_logs set payload = '{"edited": true}' where user_id = ${userId}`],
    ['delete', (tx) => tx`delete from public.event_logs where user_id = ${userId}`],
  ];

  it('refuses insert, update and delete to the functions\' role, authenticated and service_role', async () => {
    const user = await newUser();
    await newMolecule(user.id);
    for (const role of [API_ROLE, 'authenticated', 'service_role'] as const) {
      for (const [what, attempt] of attempts(user.id)) {
        const err = await errorOf(asRole(role, user.id, attempt));
        expect(err.code, `${role} ${what}`).toBe('42501');
      }
      // Setting the purge flag by hand changes nothing: the privilege is missing anyway.
      const err = await errorOf(asRole(role, user.id, async (tx) => {
        await tx`select set_config('quantum_forge.purging_event_logs', 'on', true)`;
        await tx`delete from public.event_logs where user_id = ${user.id}`;
      }));
      expect(err.code).toBe('42501');
    }
  });

  it('refuses update, delete and truncate even to the table owner', async () => {
    const user = await newUser();
    await newMolecule(user.id);
    const sql = adminSql();
    for (const statement of [
      sql`update public.event_logs set payload = '{"edited": true}' where user_id = ${user.id}`,
      sql`delete from public.event_logs where user_id = ${user.id}`,
      sql`truncate public.event_logs`,
    ]) {
      const err = await errorOf(statement);
      expect(err.message).toMatch(/event_logs is append-only/);
    }
    const [row] = await sql`select count(*)::int as n, bool_and(payload ? 'edited') as edited from public.event_logs where user_id = ${user.id}`;
    expect(row).toEqual({ n: 1, edited: false });
  });

  it('lets the owner\'s retention function delete old events, and only those', async () => {
    const user = await newUser();
    await newMolecule(user.id);
    const sql = adminSql();
    await sql`
      insert into public.event_logs (event_type, entity_type, user_id, payload, created_at)
      values ('error', 'function', ${user.id}, '{"old": true}', now() - interval '400 days')`;
    const [{ purged }] = await sql`select public.purge_event_logs('365 days') as purged`;
    expect(Number(purged)).toBeGreaterThanOrEqual(1);
    const rows = await sql`select event_type from public.event_logs where user_id = ${user.id}`;
    expect(rows).toEqual([{ event_type: 'molecule_created' }]);
    // The flag does not outlive the function, even in its own transaction.
    const err = await errorOf(sql.begin(async (tx) => {
      await tx`select public.purge_event_logs('365 days')`;
      await tx`delete from public.event_logs where user_id = ${user.id}`;
    }));
    expect(err.message).toMatch(/append-only/);
  });
});
