// Helpers of the query tests: ingest items for any SMILES (the geometry's elements are the
// molecule's, as ingest checks), and paging a listing to its end over HTTP.
import { identifyMolecule } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { call } from '../support/http.ts';

export interface ItemOptions {
  seed?: number;
  method?: IngestCalculationInput['method'];
  task?: IngestCalculationInput['task'];
  solvent?: string | null;
  status?: 'completed' | 'failed' | 'running';
  energy?: number;
  gap?: number | null;
  dipole?: number | null;
  withGradient?: boolean;
  tags?: string[];
  name?: string;
  batchItemId?: string;
}

/** A calculation of any molecule: atoms laid out on a line, shifted by `seed` so identities differ. */
export async function item(smiles: string, o: ItemOptions = {}): Promise<IngestCalculationInput> {
  const identity = identifyMolecule(await loadRDKit(), smiles);
  if (!identity) throw new Error(`bad SMILES ${smiles}`);
  const symbols = [...identity.elements].flatMap(([e, k]) => Array<string>(k).fill(e));
  const seed = o.seed ?? 0;
  const geometry = symbols.map((element, i) => ({
    element,
    xyz: [i * 1.1 + seed * 1e-3, (i % 3) * 0.9 - 0.45, (i % 5) * 0.7 + 0.125] as [number, number, number],
  }));
  const status = o.status ?? 'completed';
  const n = geometry.length;
  return {
    molecule: { smiles, name: o.name ?? `test ${smiles}` },
    method: o.method ?? 'GFN2-xTB',
    task: o.task ?? (o.withGradient ? 'grad' : 'sp'),
    solvent: o.solvent ?? null,
    status,
    geometry,
    results: status === 'completed'
      ? {
          total_energy_eh: o.energy ?? -5 - seed * 1e-3,
          homo_lumo_gap_ev: o.gap === undefined ? 10 + (seed % 7) : o.gap,
          dipole_debye: o.dipole === undefined ? 1 + (seed % 5) * 0.25 : o.dipole,
          dipole_au: o.dipole === null ? null : [0.1, -0.2, 0.3 + seed * 1e-3],
          converged: true,
          wall_time_s: 0.01,
          xtb_version: '6.5.1',
        }
      : null,
    charges: status === 'completed' ? geometry.map((_, i) => (i === 0 ? -0.3 : 0.3 / (n - 1))) : null,
    gradient: o.withGradient && status === 'completed'
      ? geometry.map((_, i) => [1e-3 * (i + 1), -2e-3 * i, 3e-4 + seed * 1e-6] as [number, number, number])
      : null,
    error_message: status === 'failed' ? 'abnormal termination of xtb' : null,
    batch_item_id: o.batchItemId ?? null,
    tags: o.tags ?? [],
  };
}

/** Every row of a listing over HTTP, following next_cursor; fails on any non-200. */
export async function allPages<T = any>(path: string, token: string): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, { token });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    rows.push(...res.body.data);
    if (res.body.next_cursor && res.body.next_cursor === cursor) throw new Error(`${path}: the cursor did not move`);
    cursor = res.body.next_cursor;
    if (!cursor) return rows;
  }
  throw new Error('too many pages');
}
