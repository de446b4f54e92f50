// Row-level security: a user reaches only their own rows in every table and view, a child row can
// never point at another user's parent, and anon reaches nothing at all.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, API_ROLE, asRole, type Role } from '../support/db.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { fakeInchikey, errorOf } from '../support/sql-helpers.ts';

const TABLES = ['molecules', 'calculations', 'atomic_properties', 'batch_jobs', 'batch_items', 'event_logs', 'user_stats_slots',
  'specifications', 'calculation_provenance', 'datasets', 'releases', 'release_members'] as const;
const VIEWS = ['user_stats', 'database_stats', 'batch_progress'] as const;

interface Owned {
  moleculeId: string;
  calculationId: string;
  batchJobId: string;
  batchItemId: string;
  specificationId: string;
}

/** One row in every table for `user`, written the way the functions write: as that user. */
async function seed(user: TestUser): Promise<Owned> {
  return asRole(API_ROLE, user.id, async (tx) => {
    const [m] = await tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values ('O', ${fakeInchikey()}, 'H2O', 'O', 3) returning id`;
    const [c] = await tx`
      insert into public.calculations (molecule_id, method, task, status, total_energy_eh)
      values (${m.id}, 'GFN2-xTB', 'sp', 'completed', -5.07) returning id, specification_id`;
    await tx`insert into public.calculation_provenance (calculation_id, command) values (${c.id}, 'xtb input.xyz --gfn 2')`;
    await tx`
      insert into public.atomic_properties (calculation_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang)
      values (${c.id}, 0, 'O', 8, 0, 0, 0), (${c.id}, 1, 'H', 1, 0.96, 0, 0), (${c.id}, 2, 'H', 1, -0.24, 0.93, 0)`;
    const [b] = await tx`insert into public.batch_jobs (name) values ('isolation') returning id`;
    const [i] = await tx`insert into public.batch_items (batch_job_id, molecule_id) values (${b.id}, ${m.id}) returning id`;
    await tx`select public.log_performance_metric('{"ms": 12}'::jsonb)`;
    // A dataset with a sealed release holding a calculation of its own (a held one may not change,
    // and the tests below change c); the content hash is not checked here.
    const [held] = await tx`
      insert into public.calculations (molecule_id, method, task, status, total_energy_eh)
      values (${m.id}, 'GFN2-xTB', 'opt', 'completed', -5.08) returning id`;
    const [d] = await tx`insert into public.datasets (name) values ('isolation') returning id`;
    const [r] = await tx`select id from public.create_release(${d.id}, '{"license": "MIT", "authors": ["t"]}'::jsonb, array[${held.id}::uuid])`;
    await tx`select public.seal_release(${r.id}, ${'0'.repeat(64)}, 0)`;
    return { moleculeId: m.id, calculationId: c.id, batchJobId: b.id, batchItemId: i.id, specificationId: c.specification_id };
  });
}

describe('row-level security', () => {
  let alice: TestUser;
  let bob: TestUser;
  let bobs: Owned;
  let alices: Owned;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([newUser(), newUser()]);
    [alices, bobs] = await Promise.all([seed(alice), seed(bob)]);
  });

  it('each table and view shows a user their own rows and none of another user\'s', async () => {
    for (const relation of [...TABLES, ...VIEWS]) {
      const owners = await asRole(API_ROLE, alice.id, (tx) =>
        tx`select distinct user_id from ${tx('public')}.${tx(relation)}`);
      expect(owners, relation).toEqual([{ user_id: alice.id }]);
    }
    // Even asked for by id.
    const found = await asRole(API_ROLE, alice.id, async (tx) => ({
      molecules: await tx`select id from public.molecules where id = ${bobs.moleculeId}`,
      calculations: await tx`select id from public.calculations where id = ${bobs.calculationId}`,
      atomic_properties: await tx`select atom_index from public.atomic_properties where calculation_id = ${bobs.calculationId}`,
      batch_jobs: await tx`select id from public.batch_jobs where id = ${bobs.batchJobId}`,
      batch_items: await tx`select id from public.batch_items where id = ${bobs.batchItemId}`,
      event_logs: await tx`select id from public.event_logs where user_id = ${bob.id}`,
      user_stats: await tx`select user_id from public.user_stats where user_id = ${bob.id}`,
    }));
    for (const [table, rows] of Object.entries(found)) expect(rows, table).toEqual([]);
  });

  it('a user cannot insert rows owned by another user', async () => {
    const attempts: Record<string, (tx: any) => Promise<unknown>> = {
      molecules: (tx) => tx`
        insert into public.molecules (user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
        values (${bob.id}, 'C', ${fakeInchikey()}, 'CH4', 'C', 5)`,
      calculations: (tx) => tx`
        insert into public.calculations (user_id, molecule_id, method, task, charge)
        values (${bob.id}, ${bobs.moleculeId}, 'GFN2-xTB', 'sp', 1)`,
      atomic_properties: (tx) => tx`
        insert into public.atomic_properties (user_id, calculation_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang)
        values (${bob.id}, ${bobs.calculationId}, 3, 'H', 1, 0, 0, 1)`,
      batch_jobs: (tx) => tx`insert into public.batch_jobs (user_id, name) values (${bob.id}, 'not mine')`,
      batch_items: (tx) => tx`
        insert into public.batch_items (user_id, batch_job_id, molecule_id) values (${bob.id}, ${bobs.batchJobId}, ${bobs.moleculeId})`,
    };
    for (const [table, attempt] of Object.entries(attempts)) {
      const err = await errorOf(asRole(API_ROLE, alice.id, attempt));
      expect(err.code, table).toBe('42501');
      expect(err.message, table).toMatch(/row-level security/);
    }
    // event_logs and the counters take no inserts from API roles at all.
    for (const table of ['event_logs', 'user_stats_slots']) {
      const err = await errorOf(asRole(API_ROLE, alice.id, (tx) =>
        tx`insert into ${tx('public')}.${tx(table)} (user_id) values (${alice.id})`));
      expect(err.code, table).toBe('42501');
      expect(err.message, table).toMatch(/permission denied/);
    }
    // The user_stats view (sums over the slots) cannot be written at all.
    const viaView = await errorOf(asRole(API_ROLE, alice.id, (tx) =>
      tx`insert into public.user_stats (user_id) values (${alice.id})`));
    expect(viaView.message).toMatch(/cannot insert into view "user_stats"/);
  });

  it('a child row cannot point at another user\'s parent, even when it is owned by the writer', async () => {
    const attempts: Record<string, [string, (tx: any) => Promise<unknown>]> = {
      calculations: ['calculations_molecule_fkey', (tx) => tx`
        insert into public.calculations (molecule_id, method, task) values (${bobs.moleculeId}, 'GFN2-xTB', 'sp')`],
      atomic_properties: ['atomic_properties_calculation_fkey', (tx) => tx`
        insert into public.atomic_properties (calculation_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang)
        values (${bobs.calculationId}, 7, 'H', 1, 0, 0, 0)`],
      batch_items: ['batch_items_batch_job_fkey', (tx) => tx`
        insert into public.batch_items (batch_job_id, molecule_id) values (${bobs.batchJobId}, ${alices.moleculeId})`],
      'batch_items.molecule_id': ['batch_items_molecule_fkey', (tx) => tx`
        insert into public.batch_items (batch_job_id, molecule_id) values (${alices.batchJobId}, ${bobs.moleculeId})`],
      'calculations.batch_item_id': ['calculations_batch_item_fkey', (tx) => tx`
        update public.calculations set batch_item_id = ${bobs.batchItemId} where id = ${alices.calculationId}`],
      'batch_items.calculation_id': ['batch_items_calculation_fkey', (tx) => tx`
        update public.batch_items set calculation_id = ${bobs.calculationId} where id = ${alices.batchItemId}`],
      'calculations.specification_id': ['calculations_specification_fkey', (tx) => tx`
        update public.calculations set specification_id = ${bobs.specificationId} where id = ${alices.calculationId}`],
      'calculations.same_structure_as': ['calculations_same_structure_fkey', (tx) => tx`
        update public.calculations set same_structure_as = ${bobs.calculationId} where id = ${alices.calculationId}`],
      calculation_provenance: ['calculation_provenance_calculation_fkey', (tx) => tx`
        insert into public.calculation_provenance (calculation_id, command) values (${bobs.calculationId}, 'xtb')`],
    };
    for (const [what, [constraint, attempt]] of Object.entries(attempts)) {
      const err = await errorOf(asRole(API_ROLE, alice.id, attempt));
      expect(err.code, what).toBe('23503');
      expect(err.constraint_name, what).toBe(constraint);
    }
  });

  it('a user cannot update or delete another user\'s rows, nor move their own rows to another user', async () => {
    const changed = await asRole(API_ROLE, alice.id, async (tx) => ({
      molecules: (await tx`update public.molecules set name = 'mine now' where id = ${bobs.moleculeId}`).count,
      calculations: (await tx`update public.calculations set tags = '{x}' where id = ${bobs.calculationId}`).count,
      batch_jobs: (await tx`update public.batch_jobs set name = 'mine now' where id = ${bobs.batchJobId}`).count,
      batch_items: (await tx`update public.batch_items set charge = 1 where id = ${bobs.batchItemId}`).count,
      'delete atomic_properties': (await tx`delete from public.atomic_properties where calculation_id = ${bobs.calculationId}`).count,
      'delete batch_items': (await tx`delete from public.batch_items where id = ${bobs.batchItemId}`).count,
      'delete batch_jobs': (await tx`delete from public.batch_jobs where id = ${bobs.batchJobId}`).count,
      'delete calculations': (await tx`delete from public.calculations where id = ${bobs.calculationId}`).count,
      'delete molecules': (await tx`delete from public.molecules where id = ${bobs.moleculeId}`).count,
    }));
    for (const [what, count] of Object.entries(changed)) expect(count, what).toBe(0);

    const [still] = await adminSql()`
      select (select count(*) from public.molecules where id = ${bobs.moleculeId} and name is null)::int as molecules,
             (select count(*) from public.calculations where id = ${bobs.calculationId} and tags = '{}')::int as calculations,
             (select count(*) from public.atomic_properties where calculation_id = ${bobs.calculationId})::int as atoms,
             (select count(*) from public.batch_jobs where id = ${bobs.batchJobId} and name = 'isolation')::int as batch_jobs,
             (select count(*) from public.batch_items where id = ${bobs.batchItemId} and charge = 0)::int as batch_items`;
    expect(still).toEqual({ molecules: 1, calculations: 1, atoms: 3, batch_jobs: 1, batch_items: 1 });

    // Handing one's own row to someone else is refused by the policies' WITH CHECK.
    const err = await errorOf(asRole(API_ROLE, alice.id, (tx) =>
      tx`update public.batch_items set user_id = ${bob.id} where id = ${alices.batchItemId}`));
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/row-level security/);

    // Nobody updates atoms, events or counters through the API, not even their own.
    for (const statement of [
      (tx: any) => tx`update public.atomic_properties set x_ang = 1 where calculation_id = ${alices.calculationId}`,
      (tx: any) => tx`update public.event_logs set payload = '{}' where user_id = ${alice.id}`,
      (tx: any) => tx`delete from public.event_logs where user_id = ${alice.id}`,
      (tx: any) => tx`update public.user_stats_slots set molecules = 0 where user_id = ${alice.id}`,
      (tx: any) => tx`update public.batch_jobs set completed_items = 99 where id = ${alices.batchJobId}`,
    ]) {
      const denied = await errorOf(asRole(API_ROLE, alice.id, statement));
      expect(denied.code).toBe('42501');
    }
  });

  it('anon can read, write or call nothing', async () => {
    for (const relation of [...TABLES, ...VIEWS]) {
      const err = await errorOf(asRole('anon', undefined, (tx) => tx`select 1 from ${tx('public')}.${tx(relation)} limit 1`));
      expect(err.code, relation).toBe('42501');
    }
    const insert = await errorOf(asRole('anon', undefined, (tx) => tx`
      insert into public.molecules (user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values (${alice.id}, 'C', ${fakeInchikey()}, 'CH4', 'C', 5)`));
    expect(insert.code).toBe('42501');
    for (const call of [
      (tx: any) => tx`select public.log_performance_metric('{}'::jsonb)`,
      (tx: any) => tx`select public.purge_event_logs('1 day')`,
      (tx: any) => tx`select public.refresh_user_stats()`,
    ]) {
      const err = await errorOf(asRole('anon', undefined, call));
      expect(err.code).toBe('42501');
    }
  });

  it('the functions\' role, authenticated and service_role cannot run the owner-only maintenance functions', async () => {
    for (const role of [API_ROLE, 'authenticated', 'service_role'] as Role[]) {
      for (const call of [
        (tx: any) => tx`select public.purge_event_logs('1 day')`,
        (tx: any) => tx`select public.refresh_user_stats()`,
      ]) {
        const err = await errorOf(asRole(role, role === 'service_role' ? undefined : alice.id, call));
        expect(err.code, role).toBe('42501');
      }
    }
  });

  it('service_role bypasses row-level security, as on Supabase', async () => {
    const rows = await asRole('service_role', undefined, (tx) => tx`
      select user_id from public.molecules where id in (${alices.moleculeId}, ${bobs.moleculeId}) order by user_id`);
    expect(rows.map((r) => r.user_id).sort()).toEqual([alice.id, bob.id].sort());
    // It may write for any user, but only with the privileges it was granted.
    const other = randomUUID();
    const err = await errorOf(asRole('service_role', undefined, (tx) =>
      tx`insert into public.event_logs (event_type, entity_type, user_id) values ('error', 'function', ${other})`));
    expect(err.code).toBe('42501');
  });
});
