// Ingest payloads for tests: small molecules with geometries whose elements match their SMILES,
// and a seed that shifts coordinates so each call can make a distinct calculation identity.
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';

type Atom = { element: string; xyz: [number, number, number] };

export const GEOMETRIES: Record<string, Atom[]> = {
  O: [
    { element: 'O', xyz: [0, 0, 0.1173] },
    { element: 'H', xyz: [0, 0.7572, -0.4692] },
    { element: 'H', xyz: [0, -0.7572, -0.4692] },
  ],
  C: [
    { element: 'C', xyz: [0, 0, 0] },
    { element: 'H', xyz: [0.629, 0.629, 0.629] },
    { element: 'H', xyz: [-0.629, -0.629, 0.629] },
    { element: 'H', xyz: [-0.629, 0.629, -0.629] },
    { element: 'H', xyz: [0.629, -0.629, -0.629] },
  ],
  CCO: [
    { element: 'C', xyz: [-1.2, 0.1, 0] },
    { element: 'C', xyz: [0.2, -0.4, 0] },
    { element: 'O', xyz: [1.1, 0.6, 0] },
    { element: 'H', xyz: [-1.9, -0.7, 0] },
    { element: 'H', xyz: [-1.4, 0.7, 0.9] },
    { element: 'H', xyz: [-1.4, 0.7, -0.9] },
    { element: 'H', xyz: [0.4, -1.0, 0.9] },
    { element: 'H', xyz: [0.4, -1.0, -0.9] },
    { element: 'H', xyz: [2.0, 0.2, 0] },
  ],
};

export interface CalcOptions {
  smiles?: string;
  geometryOf?: keyof typeof GEOMETRIES;
  seed?: number;
  status?: 'completed' | 'failed' | 'running';
  task?: 'sp' | 'grad' | 'opt';
  method?: IngestCalculationInput['method'];
  energy?: number;
  withGradient?: boolean;
  extra?: Partial<IngestCalculationInput>;
}

/** A completed calculation; `seed` moves the geometry so the identity differs per seed. */
export function calc(opts: CalcOptions = {}): IngestCalculationInput {
  const smiles = opts.smiles ?? 'O';
  const base = GEOMETRIES[opts.geometryOf ?? (smiles in GEOMETRIES ? smiles : 'O')];
  const shift = (opts.seed ?? 0) * 1e-3;
  const geometry = base.map((a) => ({ element: a.element, xyz: [a.xyz[0] + shift, a.xyz[1], a.xyz[2]] as [number, number, number] }));
  const status = opts.status ?? 'completed';
  const n = geometry.length;
  return {
    molecule: { smiles, name: `test ${smiles}` },
    charge: 0,
    multiplicity: 1,
    method: opts.method ?? 'GFN2-xTB',
    task: opts.task ?? (opts.withGradient ? 'grad' : 'sp'),
    solvent: null,
    status,
    geometry,
    results: status === 'completed'
      ? {
          total_energy_eh: opts.energy ?? -5.070544 - (opts.seed ?? 0) * 1e-6,
          homo_lumo_gap_ev: 14.39,
          dipole_debye: 2.1,
          dipole_au: [0.1, 0.2, 0.8],
          converged: true,
          wall_time_s: 0.02,
          xtb_version: '6.5.1',
        }
      : null,
    charges: status === 'completed' ? geometry.map((_, i) => (i === 0 ? -0.5 : 0.5 / (n - 1))) : null,
    gradient: opts.withGradient ? geometry.map((_, i) => [1e-3 * i, i ? -2e-3 * i : 0, 3e-4] as [number, number, number]) : null,
    error_message: status === 'failed' ? '-3- scf: Self consistent charge iterator did not converge' : null,
    tags: ['test'],
    ...opts.extra,
  };
}

/** A completed sp calculation of `smiles` with a geometry of exactly these element counts. */
export function calcOf(smiles: string, counts: Record<string, number>, seed = 0) {
  const symbols = Object.entries(counts).flatMap(([e, n]) => Array<string>(n).fill(e));
  return {
    molecule: { smiles },
    method: 'GFN2-xTB',
    task: 'sp',
    status: 'completed',
    geometry: symbols.map((element, i) => ({ element, xyz: [i * 1.1 + seed * 1e-3, (i % 3) * 0.9, (i % 5) * 0.7] })),
    results: { total_energy_eh: -1 - seed * 1e-3 },
  };
}
