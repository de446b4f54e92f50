// A QCSchema AtomicResult (as QCEngine's xtb harness writes it) stores the same numbers as the
// native payload of the same run.
import { describe, expect, it } from 'vitest';
import { BOHR_ANGSTROM, AU_DEBYE } from '../../shared/units.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { calc, GEOMETRIES } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

const dipoleAu: [number, number, number] = [0.0, 0.0, -0.8017];
const gradient: [number, number, number][] = [[0, 0, -0.0123], [0, 0.0088, 0.0061], [0, -0.0088, 0.0061]];
const charges = [-0.565, 0.2825, 0.2825];
const energy = -5.070544645;

const qcschema = {
  schema_name: 'qcschema_output',
  schema_version: 1,
  molecule: {
    symbols: ['O', 'H', 'H'],
    geometry: GEOMETRIES.O.flatMap((a) => a.xyz.map((v) => v / BOHR_ANGSTROM)),
    molecular_charge: 0,
    molecular_multiplicity: 1,
    identifiers: { canonical_isomeric_smiles: 'O' },
  },
  driver: 'gradient',
  model: { method: 'GFN2-xTB', basis: null },
  keywords: {},
  return_result: gradient.flat(),
  properties: { return_energy: energy, scf_dipole_moment: dipoleAu },
  extras: { xtb: { mulliken_charges: charges, return_gradient: gradient } },
  success: true,
  provenance: { creator: 'xtb', version: '6.5.1', routine: 'xtb.qcschema.run_qcschema' },
};

describe('QCSchema', () => {
  it('stores the same calculation and atoms as the native payload', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const [viaQc] = await clientFor(alice.token).ingest([qcschema]);
    expect(viaQc.outcome).toBe('created');
    const native = calc({
      smiles: 'O',
      withGradient: true,
      extra: {
        results: { total_energy_eh: energy, dipole_au: dipoleAu, dipole_debye: Math.hypot(...dipoleAu) * AU_DEBYE, xtb_version: '6.5.1' },
        charges,
        gradient,
      },
    });
    const [viaNative] = await clientFor(bob.token).ingest([native]);
    const sql = adminSql();
    const row = (id: string) => sql`
      select k.task, k.total_energy_eh, k.dipole_debye, k.dipole_au, k.geometry_sha256, m.inchikey
        from public.calculations k join public.molecules m on m.id = k.molecule_id where k.id = ${id}`;
    const [a] = await row(viaQc.calculation_id!);
    const [b] = await row(viaNative.calculation_id!);
    expect(a.task).toBe('grad');
    expect(a.total_energy_eh).toBe(b.total_energy_eh);
    expect(a.dipole_debye).toBeCloseTo(b.dipole_debye, 12);
    expect(a.dipole_au).toEqual(b.dipole_au);
    expect(a.geometry_sha256).toBe(b.geometry_sha256);
    expect(a.inchikey).toBe(b.inchikey);
    const atoms = (id: string) => sql`
      select element, x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr
        from public.atomic_properties where calculation_id = ${id} order by atom_index`;
    const qa = await atoms(viaQc.calculation_id!);
    const na = await atoms(viaNative.calculation_id!);
    qa.forEach((atom, i) => {
      expect(atom.element).toBe(na[i].element);
      for (const k of ['x_ang', 'y_ang', 'z_ang'] as const) expect(Math.abs(atom[k] - na[i][k])).toBeLessThan(1e-12);
      expect(atom.partial_charge_e).toBe(na[i].partial_charge_e);
      expect([atom.grad_x_eh_bohr, atom.grad_y_eh_bohr, atom.grad_z_eh_bohr]).toEqual(gradient[i]);
    });
  });

  it('stores a failed QCSchema result as a failed calculation with its error', async () => {
    const user = await newUser();
    const failed = { ...qcschema, success: false, properties: {}, return_result: 0, error: { error_type: 'runtime_error', error_message: 'SCC did not converge' } };
    const [r] = await clientFor(user.token).ingest([failed]);
    const [row] = await adminSql()`select status, error_message from public.calculations where id = ${r.calculation_id}`;
    expect(row).toEqual({ status: 'failed', error_message: 'SCC did not converge' });
  });
});
