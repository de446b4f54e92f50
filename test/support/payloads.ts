// Payloads for tests and benchmarks, from one ingest builder (`calc`): calculations of small
// molecules whose geometries' elements match their SMILES, batch items, and the result a runner
// posts for a claimed item. A seed (or a shift) moves coordinates, so each call can make a distinct
// calculation identity.
import { identifyMolecule } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import type { ClaimedItem, CreateBatchItemInput } from '../../shared/contract/batches.ts';
import type { Geometry, Vec3 } from '../../shared/contract/common.ts';
import type { IngestCalculationInput, Results } from '../../shared/contract/ingest.ts';

/** A small, fast, seeded PRNG (mulberry32) in [0, 1): the same seed gives the same data set. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GEOMETRIES: Record<string, Geometry> = {
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

/** `geometry` moved by `dx` Å along x: another geometry, so another calculation identity. */
export const shifted = (geometry: Geometry, dx: number): Geometry =>
  geometry.map((a) => ({ element: a.element, xyz: [a.xyz[0] + dx, a.xyz[1], a.xyz[2]] }));

/** The atoms of any molecule (hydrogens included, from RDKit) laid out on a line, moved by `seed` mÅ. */
export async function lineGeometry(smiles: string, seed = 0): Promise<Geometry> {
  const identity = identifyMolecule(await loadRDKit(), smiles);
  if (!identity) throw new Error(`bad SMILES ${smiles}`);
  const symbols = [...identity.elements].flatMap(([e, k]) => Array<string>(k).fill(e));
  return symbols.map((element, i) => ({
    element,
    xyz: [i * 1.1 + seed * 1e-3, (i % 3) * 0.9 - 0.45, (i % 5) * 0.7 + 0.125] as Vec3,
  }));
}

export interface CalcOptions {
  /** 'O' unless given. */
  smiles?: string;
  /** `test <smiles>` unless given. */
  name?: string | null;
  /** The input geometry; else `geometryOf`'s (or the SMILES' own, or water's) moved by `seed` mÅ. */
  geometry?: Geometry;
  geometryOf?: keyof typeof GEOMETRIES;
  seed?: number;
  method?: IngestCalculationInput['method'];
  task?: IngestCalculationInput['task'];
  solvent?: string | null;
  charge?: number;
  multiplicity?: number;
  status?: 'completed' | 'failed' | 'running';
  energy?: number;
  /** null: none (as GFN-FF gives). */
  gap?: number | null;
  /** null: no dipole, neither its size nor its vector. */
  dipole?: number | null;
  /** Any other result values, over the defaults. */
  results?: Partial<Results>;
  /** A per-atom gradient (and task `grad` unless `task` is given); completed calculations only. */
  withGradient?: boolean;
  tags?: string[];
  /** Any other fields, over everything above. */
  extra?: Partial<IngestCalculationInput>;
}

/** A calculation in the ingest format: completed unless `status` says otherwise. */
export function calc(opts: CalcOptions = {}): IngestCalculationInput {
  const smiles = opts.smiles ?? 'O';
  const seed = opts.seed ?? 0;
  const geometry = opts.geometry ?? shifted(GEOMETRIES[opts.geometryOf ?? (smiles in GEOMETRIES ? smiles : 'O')], seed * 1e-3);
  const status = opts.status ?? 'completed';
  const completed = status === 'completed';
  const n = geometry.length;
  return {
    molecule: { smiles, name: opts.name === undefined ? `test ${smiles}` : opts.name },
    charge: opts.charge ?? 0,
    multiplicity: opts.multiplicity ?? 1,
    method: opts.method ?? 'GFN2-xTB',
    task: opts.task ?? (opts.withGradient ? 'grad' : 'sp'),
    solvent: opts.solvent ?? null,
    status,
    geometry,
    results: completed
      ? {
          total_energy_eh: opts.energy ?? -5.070544 - seed * 1e-6,
          homo_lumo_gap_ev: opts.gap === undefined ? 14.39 : opts.gap,
          dipole_debye: opts.dipole === undefined ? 2.1 : opts.dipole,
          dipole_au: opts.dipole === null ? null : [0.1, 0.2, 0.8],
          converged: true,
          wall_time_s: 0.02,
          xtb_version: '6.5.1',
          ...opts.results,
        }
      : null,
    charges: completed ? geometry.map((_, i) => (i === 0 ? -0.5 : 0.5 / (n - 1))) : null,
    gradient: opts.withGradient && completed ? geometry.map((_, i) => [1e-3 * i, i ? -2e-3 * i : 0, 3e-4] as Vec3) : null,
    error_message: status === 'failed' ? '-3- scf: Self consistent charge iterator did not converge' : null,
    tags: opts.tags ?? ['test'],
    ...opts.extra,
  };
}

/** A calculation of any molecule, with its atoms from `lineGeometry` unless a geometry is given. */
export async function calcOf(smiles: string, opts: CalcOptions = {}): Promise<IngestCalculationInput> {
  return calc({ ...opts, smiles, geometry: opts.geometry ?? await lineGeometry(smiles, opts.seed) });
}

/** The result a runner posts for a claimed item: the item's molecule, settings and geometry. */
export function resultFor(claimed: ClaimedItem, opts: { energy?: number; shift?: number } = {}): IngestCalculationInput {
  const geometry = shifted(claimed.geometry ?? GEOMETRIES[claimed.smiles], opts.shift ?? 0);
  return calc({
    smiles: claimed.smiles,
    name: null,
    geometry,
    charge: claimed.charge,
    multiplicity: claimed.multiplicity,
    method: claimed.method,
    task: claimed.task,
    solvent: claimed.solvent,
    energy: opts.energy ?? -5.07 - geometry[0].xyz[0] * 1e-3,
  });
}

const SMALL = ['O', 'C', 'CCO'] as const;

/** Batch item `i`: water, methane or ethanol, moved by `i` mÅ, so every result is a distinct calculation. */
export function batchItem(i: number, extra: Partial<CreateBatchItemInput> = {}): CreateBatchItemInput {
  const smiles = SMALL[i % SMALL.length];
  return { smiles, name: `item ${i}`, geometry: shifted(GEOMETRIES[smiles], i * 1e-3), ...extra };
}

export const batchItems = (n: number, from = 0): CreateBatchItemInput[] =>
  Array.from({ length: n }, (_, k) => batchItem(from + k));

/**
 * A completed sp calculation of `smiles` with a geometry of exactly these element counts, built
 * without RDKit (for molecules RDKit is slow on, or that it refuses).
 */
export function calcWithAtoms(smiles: string, counts: Record<string, number>, seed = 0) {
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
