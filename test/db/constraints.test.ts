// Constraints: bad results are refused by the database itself, each with the name of the
// constraint it broke, whatever code writes them.
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROLE, asRole } from '../support/db.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { fakeInchikey, errorOf } from '../support/sql-helpers.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('calculation constraints', () => {
  let user: TestUser;
  let moleculeId: string;

  beforeAll(async () => {
    user = await newUser();
    [{ id: moleculeId }] = await asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values ('c1ccccc1', ${fakeInchikey()}, 'C6H6', 'C1=CC=CC=C1', 12) returning id`);
  });

  /** Inserts one calculation as the user, with defaults for what `columns` leaves out. */
  const insertCalc = (columns: Record<string, unknown>) =>
    asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.calculations ${tx({ molecule_id: moleculeId, method: 'GFN2-xTB', task: 'sp', ...columns })}
      returning id`);

  async function expectRefused(p: Promise<unknown>, constraint: string, code = '23514') {
    const err = await errorOf(p);
    expect(err.code).toBe(code);
    expect(err.constraint_name).toBe(constraint);
    expect(err.message).toContain(constraint);
  }

  it('refuses a NaN or infinite energy', async () => {
    for (const bad of ['NaN', 'Infinity', '-Infinity']) {
      await expectRefused(
        asRole(API_ROLE, user.id, (tx) => tx`
          insert into public.calculations (molecule_id, method, task, status, total_energy_eh)
          values (${moleculeId}, 'GFN2-xTB', 'sp', 'completed', ${bad}::float8)`),
        'calculations_total_energy_eh_finite',
      );
    }
  });

  it('refuses a status change that goes backwards', async () => {
    const [c] = await insertCalc({ status: 'completed', total_energy_eh: -15.9, geometry_sha256: sha(1) });
    for (const back of ['running', 'pending', 'failed']) {
      await expectRefused(
        asRole(API_ROLE, user.id, (tx) => tx`update public.calculations set status = ${back} where id = ${c.id}`),
        'calculations_status_transition',
      );
    }
    const [r] = await insertCalc({ status: 'running', geometry_sha256: sha(2) });
    await expectRefused(
      asRole(API_ROLE, user.id, (tx) => tx`update public.calculations set status = 'pending' where id = ${r.id}`),
      'calculations_status_transition',
    );
    // Forward moves and a retry of a failure are fine.
    await asRole(API_ROLE, user.id, async (tx) => {
      await tx`update public.calculations set status = 'failed', error_message = 'x' where id = ${r.id}`;
      await tx`update public.calculations set status = 'pending' where id = ${r.id}`;
      await tx`update public.calculations set status = 'running' where id = ${r.id}`;
      await tx`update public.calculations set status = 'completed', total_energy_eh = -15.8 where id = ${r.id}`;
    });
  });

  it('refuses a second row with the same identity, gas phase and missing geometry included', async () => {
    await insertCalc({ task: 'opt', charge: 0, multiplicity: 1, solvent: null, geometry_sha256: sha(3) });
    await expectRefused(
      insertCalc({ task: 'opt', charge: 0, multiplicity: 1, solvent: null, geometry_sha256: sha(3) }),
      'calculations_identity_key',
      '23505',
    );
    await insertCalc({ task: 'grad', solvent: 'water' });
    await expectRefused(insertCalc({ task: 'grad', solvent: 'water' }), 'calculations_identity_key', '23505');
    // Any part of the identity that differs makes another calculation.
    await insertCalc({ task: 'opt', charge: 0, multiplicity: 1, solvent: 'water', geometry_sha256: sha(3) });
    await insertCalc({ task: 'opt', charge: 1, multiplicity: 2, solvent: null, geometry_sha256: sha(3) });
  });

  it('refuses a negative HOMO-LUMO gap', async () => {
    await expectRefused(
      insertCalc({ status: 'completed', total_energy_eh: -15.7, homo_lumo_gap_ev: -0.1, geometry_sha256: sha(4) }),
      'calculations_homo_lumo_gap_ev_nonnegative',
    );
  });

  it('refuses multiplicity 0', async () => {
    await expectRefused(insertCalc({ multiplicity: 0, geometry_sha256: sha(5) }), 'calculations_multiplicity_positive');
  });

  it('refuses a completed row without energy, a dipole that is not 3 finite numbers, and unknown methods', async () => {
    await expectRefused(insertCalc({ status: 'completed', geometry_sha256: sha(6) }), 'calculations_completed_has_energy');
    for (const dipole of ['{1,2}', '{1,2,NaN}', '{1,2,NULL}', '{{1,2,3}}']) {
      await expectRefused(
        asRole(API_ROLE, user.id, (tx) => tx`
          insert into public.calculations (molecule_id, method, task, dipole_au, geometry_sha256)
          values (${moleculeId}, 'GFN2-xTB', 'sp', ${dipole}::float8[], ${sha(7)})`),
        'calculations_dipole_au_vector',
      );
    }
    await expectRefused(insertCalc({ method: 'B3LYP', geometry_sha256: sha(8) }), 'calculations_method_valid');
    await expectRefused(insertCalc({ task: 'md', geometry_sha256: sha(8) }), 'calculations_task_valid');
    await expectRefused(insertCalc({ geometry_sha256: 'not a hash' }), 'calculations_geometry_sha256_format');
  });
});

describe('other tables', () => {
  it('refuses malformed molecules, atoms and batch items by name', async () => {
    const user = await newUser();
    const molecule = (columns: Record<string, unknown>) => asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.molecules ${tx({ canonical_smiles: 'O', inchikey: fakeInchikey(), formula: 'H2O', input_smiles: 'O', n_atoms: 3, ...columns })}
      returning id`);
    const refused = async (p: Promise<unknown>, constraint: string) => {
      const err = await errorOf(p);
      expect(err.constraint_name).toBe(constraint);
    };
    await refused(molecule({ inchikey: 'not-an-inchikey' }), 'molecules_inchikey_format');
    await refused(molecule({ n_atoms: 0 }), 'molecules_n_atoms_positive');
    await refused(molecule({ molecule_key: 'not-a-key' }), 'molecules_molecule_key_format');
    // One molecule key per user; the standard InChIKey may repeat (tautomers share it).
    const inchikey = fakeInchikey();
    const moleculeKey = fakeInchikey();
    const [m] = await molecule({ inchikey, molecule_key: moleculeKey });
    await molecule({ inchikey, molecule_key: fakeInchikey(), canonical_smiles: '[OH2]' });
    await refused(molecule({ inchikey: fakeInchikey(), molecule_key: moleculeKey }), 'molecules_user_id_molecule_key_key');

    const [c] = await asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.calculations (molecule_id, method, task) values (${m.id}, 'GFN-FF', 'opt') returning id`);
    const atom = (columns: Record<string, unknown>) => asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.atomic_properties ${tx({ calculation_id: c.id, atom_index: 0, element: 'O', atomic_number: 8, x_ang: 0, y_ang: 0, z_ang: 0, ...columns })}`);
    await refused(atom({ atom_index: -1 }), 'atomic_properties_atom_index_nonnegative');
    await refused(atom({ element: 'oxygen' }), 'atomic_properties_element_format');
    await refused(atom({ grad_x_eh_bohr: 0.1 }), 'atomic_properties_gradient_complete');
    await atom({});
    await refused(atom({}), 'atomic_properties_pkey');

    const [b] = await asRole(API_ROLE, user.id, (tx) => tx`insert into public.batch_jobs (name) values ('c') returning id`);
    const item = (columns: Record<string, unknown>) => asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.batch_items ${tx({ batch_job_id: b.id, molecule_id: m.id, ...columns })}`);
    await refused(item({ multiplicity: 0 }), 'batch_items_multiplicity_positive');
    await refused(item({ status: 'claimed' }), 'batch_items_claim_has_lease');
    await refused(item({ status: 'done' }), 'batch_items_status_valid');
  });
});
