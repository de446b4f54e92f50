// The data migration 20261202000100_backfill_gradient_norm.sql: run again on rows written as the
// database owner the way the old parser left them (a gradient on every atom, a null norm), it fills
// the norm xtb would print, sqrt(Σ g²) in Eh/bohr, and leaves every other row alone.
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../scripts/stack/paths.ts';
import { adminSql } from '../support/db.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';
import { newUser, type TestUser } from '../support/users.ts';

const MIGRATION = repoPath('supabase/migrations/20261202000100_backfill_gradient_norm.sql');

// Methane's gradient from the fixture job 2025-03/qf-20250301-00002 (xtb printed 0.013370331291).
const METHANE_GRADIENT: [number, number, number][] = [
  [-2.1477806251086e-6, -3.3905755794238e-8, -2.2709564446229e-8],
  [6.6851142230236e-3, 4.8098362146170e-10, 3.2204774969770e-10],
  [-2.2276588820735e-3, 5.1102549738375e-3, -3.6898081887266e-3],
  [-2.2276617194946e-3, 6.4032023801712e-4, 6.2705281928139e-3],
  [-2.2276458408305e-3, -5.7505417870825e-3, -2.5806976165706e-3],
];
const METHANE_PRINTED_NORM = 0.013370331291;

let user: TestUser;
let moleculeId: string;

beforeAll(async () => {
  user = await newUser();
  moleculeId = randomUUID();
  await adminSql()`
    insert into public.molecules (id, user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
    values (${moleculeId}, ${user.id}, 'C', ${fakeInchikey()}, 'CH4', 'C', 5)`;
});

/** A completed calculation with five atoms; `gradient(i)` gives atom i's gradient or null. */
async function calculation(task: string, norm: number | null, gradient: (i: number) => [number, number, number] | null): Promise<string> {
  const id = randomUUID();
  const sql = adminSql();
  await sql`
    insert into public.calculations (id, user_id, molecule_id, method, task, status, total_energy_eh, gradient_norm_eh_bohr, geometry_sha256)
    values (${id}, ${user.id}, ${moleculeId}, 'GFN2-xTB', ${task}, 'completed', -4.17496221985, ${norm},
            ${randomUUID().replaceAll('-', '').padEnd(64, '0')})`;
  for (let i = 0; i < 5; i++) {
    const g = gradient(i);
    await sql`
      insert into public.atomic_properties (calculation_id, atom_index, user_id, element, atomic_number, x_ang, y_ang, z_ang,
                                            grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr)
      values (${id}, ${i}, ${user.id}, ${i === 0 ? 'C' : 'H'}, ${i === 0 ? 6 : 1}, ${i}, 0, 0, ${g?.[0] ?? null}, ${g?.[1] ?? null}, ${g?.[2] ?? null})`;
  }
  return id;
}

const normOf = async (id: string) =>
  (await adminSql()<{ n: number | null }[]>`select gradient_norm_eh_bohr as n from public.calculations where id = ${id}`)[0].n;

describe('backfill of gradient_norm_eh_bohr', () => {
  it('fills the norm from the stored gradient where every atom has one, and touches nothing else', async () => {
    const grad = await calculation('grad', null, (i) => METHANE_GRADIENT[i]);
    const sp = await calculation('sp', null, () => null);
    const partial = await calculation('grad', null, (i) => (i === 0 ? METHANE_GRADIENT[0] : null));
    const kept = await calculation('opt', 0.5, (i) => METHANE_GRADIENT[i]);

    const text = await readFile(MIGRATION, 'utf8');
    await adminSql().unsafe(text);

    expect(Math.abs((await normOf(grad))! - METHANE_PRINTED_NORM)).toBeLessThan(1e-12);
    expect(await normOf(sp)).toBeNull();
    expect(await normOf(partial)).toBeNull();
    expect(await normOf(kept)).toBe(0.5);

    // Idempotent: a second run changes nothing.
    const [{ before }] = await adminSql()`select max(updated_at) as before from public.calculations where user_id = ${user.id}`;
    await adminSql().unsafe(text);
    const [{ after }] = await adminSql()`select max(updated_at) as after from public.calculations where user_id = ${user.id}`;
    expect(after).toEqual(before);
  });
});
