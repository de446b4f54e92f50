// Writes prepared items with one call of public.ingest_calculations: the calculations as one jsonb
// array, the atoms as column arrays that the function unnests in a single insert, every structure
// key back to back in one float8[], and the provenance as a second jsonb array. The arrays travel
// as array literals built here (arrayLiteral).
import { atomicNumber } from '../../../shared/chem/elements.ts';
import type { Tx } from './db.ts';
import type { PreparedItem } from './prepare-calculation.ts';

export interface StoredRow {
  idx: number;
  outcome: 'created' | 'updated' | 'duplicate';
  calculation_id: string;
  molecule_id: string;
  atoms_written: number;
  specification_hash: string;
  same_structure_as: string | null;
}

function calculationRow(p: PreparedItem, structureOffset: number) {
  const { calc, molecule } = p;
  const r = calc.results;
  return {
    idx: p.index,
    inchikey: molecule.inchikey,
    molecule_key: molecule.molecule_key,
    canonical_smiles: molecule.canonical_smiles,
    formula: molecule.formula,
    n_atoms: molecule.n_atoms,
    name: calc.molecule.name ?? null,
    input_smiles: calc.molecule.smiles,
    method: calc.method,
    task: calc.task,
    solvent: calc.solvent,
    charge: calc.charge,
    multiplicity: calc.multiplicity,
    geometry_sha256: p.geometrySha256,
    xtb_args: calc.xtb_args ?? null,
    structure_offset: p.structure ? structureOffset : null,
    structure_count: p.structure ? p.structure.length : null,
    status: calc.status,
    total_energy_eh: r?.total_energy_eh ?? null,
    homo_lumo_gap_ev: r?.homo_lumo_gap_ev ?? null,
    dipole_debye: r?.dipole_debye ?? null,
    dipole_au: r?.dipole_au ?? null,
    converged: r?.converged ?? null,
    gradient_norm_eh_bohr: r?.gradient_norm_eh_bohr ?? null,
    wall_time_s: r?.wall_time_s ?? null,
    xtb_version: r?.xtb_version ?? null,
    batch_item_id: calc.batch_item_id ?? null,
    source: calc.source ?? null,
    tags: calc.tags,
    metadata: calc.metadata,
    error_message: calc.error_message ?? null,
    started_at: calc.started_at ?? null,
    completed_at: calc.completed_at ?? null,
  };
}

/**
 * A Postgres array literal (`{1.5,NULL,-2e-7}`) of numbers or element symbols, which need no
 * quoting. postgres.js quotes and escapes each value itself (two regular expressions per value);
 * a request carries up to ~300,000 such values. Numbers print in JavaScript's shortest round-trip
 * form, which float8 reads back exactly.
 */
function arrayLiteral(values: readonly (number | string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += (i ? ',' : '') + (v === null ? 'NULL' : String(v));
  }
  return out + '}';
}

/** Atoms are stored for results only: the final geometry for `opt`, the input geometry otherwise. */
function hasAtoms(p: PreparedItem): boolean {
  return p.calc.status !== 'running' && (p.calc.status === 'completed' || !!p.calc.charges || !!p.calc.gradient);
}

function provenanceRow(p: PreparedItem) {
  const v = p.calc.provenance!;
  return {
    idx: p.index,
    command: v.command ?? null,
    xtb_version: v.xtb_version ?? null,
    parser_version: v.parser_version ?? null,
    files: v.files,
    input_xyz: v.input_xyz ?? null,
    raw_output_base64: v.raw_output?.data ?? null,
    raw_output_sha256: v.raw_output?.sha256 ?? null,
    raw_output_bytes: v.raw_output?.bytes ?? null,
  };
}

export async function storeItems(tx: Tx, items: PreparedItem[]): Promise<StoredRow[]> {
  const structure: number[] = [];
  const rows = items.map((p) => {
    const row = calculationRow(p, structure.length);
    if (p.structure) for (const d of p.structure) structure.push(d);
    return row;
  });
  const calc: number[] = [], index: number[] = [], element: string[] = [], z: number[] = [];
  const x: number[] = [], y: number[] = [], zc: number[] = [];
  const q: (number | null)[] = [], gx: (number | null)[] = [], gy: (number | null)[] = [], gz: (number | null)[] = [];
  for (const p of items) {
    if (!hasAtoms(p)) continue;
    const geometry = p.calc.final_geometry ?? p.calc.geometry;
    const { charges, gradient } = p.calc;
    geometry.forEach((atom, i) => {
      calc.push(p.index);
      index.push(i);
      element.push(atom.element);
      z.push(atomicNumber(atom.element) ?? 0);
      x.push(atom.xyz[0]);
      y.push(atom.xyz[1]);
      zc.push(atom.xyz[2]);
      q.push(charges ? charges[i] : null);
      gx.push(gradient ? gradient[i][0] : null);
      gy.push(gradient ? gradient[i][1] : null);
      gz.push(gradient ? gradient[i][2] : null);
    });
  }
  return await tx<StoredRow[]>`
    select idx, outcome, calculation_id, molecule_id, atoms_written, specification_hash, same_structure_as
      from public.ingest_calculations(
        ${tx.json(rows as never)}::jsonb,
        ${arrayLiteral(calc)}::int[], ${arrayLiteral(index)}::int[], ${arrayLiteral(element)}::text[], ${arrayLiteral(z)}::int[],
        ${arrayLiteral(x)}::float8[], ${arrayLiteral(y)}::float8[], ${arrayLiteral(zc)}::float8[], ${arrayLiteral(q)}::float8[],
        ${arrayLiteral(gx)}::float8[], ${arrayLiteral(gy)}::float8[], ${arrayLiteral(gz)}::float8[],
        ${arrayLiteral(structure)}::float8[],
        ${tx.json(items.filter((p) => p.calc.provenance).map(provenanceRow) as never)}::jsonb)`;
}
