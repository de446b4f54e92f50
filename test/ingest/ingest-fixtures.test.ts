// Round trip of the real sample: every finished fixture job, turned into a request by the shared
// parser, is stored with values equal to xtb's files (within 1e-8).
import { describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { parsedFixtureJobs } from '../support/fixtures.ts';
import { newUser } from '../support/users.ts';

const close = (a: number | null, b: number | null | undefined) => {
  if (b === null || b === undefined) return expect(a).toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(1e-8);
};

describe('fixture jobs through ingest', () => {
  it('stores every completed and failed job with the values of the files', async () => {
    const jobs = (await parsedFixtureJobs()).filter((j) => j.calculation && (j.outcome === 'completed' || j.outcome === 'failed_calculation'));
    expect(jobs.length).toBeGreaterThanOrEqual(20);
    const user = await newUser();
    const results = await clientFor(user.token).ingest(jobs.map((j) => j.calculation!));
    const sql = adminSql();
    let compared = 0;
    for (const [i, job] of jobs.entries()) {
      const r = results[i];
      const calc = job.calculation!;
      if (calc.molecule.smiles === 'C1CC') {
        expect(r.outcome).toBe('rejected');
        continue;
      }
      expect(['created', 'duplicate']).toContain(r.outcome);
      const [row] = await sql`select status, total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, error_message
        from public.calculations where id = ${r.calculation_id}`;
      if (r.outcome === 'duplicate') continue; // a rerun job: its twin was compared
      expect(row.status).toBe(calc.status);
      if (calc.status === 'failed') {
        expect(row.error_message).toBe(calc.error_message);
        continue;
      }
      close(row.total_energy_eh, calc.results!.total_energy_eh);
      close(row.homo_lumo_gap_ev, calc.results!.homo_lumo_gap_ev);
      close(row.dipole_debye, calc.results!.dipole_debye);
      const atoms = await sql`select element, x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr
        from public.atomic_properties where calculation_id = ${r.calculation_id} order by atom_index`;
      const geometry = calc.final_geometry ?? calc.geometry;
      expect(atoms).toHaveLength(geometry.length);
      atoms.forEach((a, k) => {
        expect(a.element).toBe(geometry[k].element);
        close(a.x_ang, geometry[k].xyz[0]);
        close(a.y_ang, geometry[k].xyz[1]);
        close(a.z_ang, geometry[k].xyz[2]);
        close(a.partial_charge_e, calc.charges?.[k]);
        close(a.grad_x_eh_bohr, calc.gradient?.[k][0]);
        close(a.grad_z_eh_bohr, calc.gradient?.[k][2]);
      });
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(15);
    // OCC, CCO and C(O)C jobs share one molecule.
    const ethanol = await sql`select count(*)::int as n from public.molecules where user_id = ${user.id} and inchikey = 'LFQSCWFLJHTTHZ-UHFFFAOYSA-N'`;
    expect(ethanol[0].n).toBe(1);
  });
});
