// Synthetic but realistic calculations for benchmarks: C6H14 isomers (20 atoms each) with
// perturbed geometries and values, so every item is a distinct calculation identity. Built by the
// tests' payload builder.
import type { Vec3 } from '../../shared/contract/common.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { calc, rng } from '../../test/support/payloads.ts';

export const HEXANES = ['CCCCCC', 'CC(C)CCC', 'CCC(C)CC', 'CC(C)(C)CC', 'CC(C)C(C)C'];
const ELEMENTS = [...Array(6).fill('C'), ...Array(14).fill('H')] as string[];

export { rng };

export function syntheticCalculation(i: number, random: () => number): IngestCalculationInput {
  const geometry = ELEMENTS.map((element, k) => ({
    element,
    xyz: [k * 0.9 + random() * 0.1, (k % 3) * 1.1 + random() * 0.1, i * 1e-4 + random() * 0.1] as Vec3,
  }));
  const withGradient = i % 2 === 0;
  // Drawn in this order, so that a seed gives the same data set as before the shared builder.
  const results = {
    total_energy_eh: -20.5 + random() * 0.5,
    homo_lumo_gap_ev: 10 + random() * 5,
    dipole_debye: random(),
    dipole_au: [random() * 0.1, random() * 0.1, random() * 0.1] as Vec3,
    wall_time_s: 0.05 + random() * 0.05,
  };
  const charges = geometry.map((a) => (a.element === 'C' ? -0.1 : 0.04) + random() * 0.01);
  const gradient = withGradient ? geometry.map(() => [random() * 1e-3, random() * 1e-3, random() * 1e-3] as Vec3) : null;
  return calc({
    smiles: HEXANES[i % HEXANES.length],
    name: null,
    geometry,
    task: withGradient ? 'grad' : 'sp',
    solvent: i % 3 === 0 ? 'water' : null,
    results,
    tags: ['bench'],
    extra: { charges, gradient, source: 'bench' },
  });
}
