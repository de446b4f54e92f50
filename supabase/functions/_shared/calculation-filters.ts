// The filters of a calculations selection as one `where` fragment over `calculations c join
// molecules m`, shared by /query (lists, exports) and /ingest's bulk delete. Row-level security,
// not these clauses, limits the rows to the caller's: nothing here mentions user_id.
import type { CalculationFilters } from '../../../shared/contract/query.ts';
import type { Fragment, Tx } from './db.ts';
import { badRequest } from './errors.ts';
import { precheckMolecule } from '../../../shared/chem/formula-check.ts';
import { moleculeCache } from './molecules.ts';

/**
 * Filters after the server-side steps: a SMILES becomes the molecule key RDKit gives it, so
 * `smiles=` finds that molecule exactly (its tautomers have other keys; `inchikey=` finds them all).
 */
export type ResolvedFilters = Omit<CalculationFilters, 'smiles' | 'user_id'> & { smiles_key?: string };

export async function resolveSmiles(smiles: string | undefined): Promise<string | undefined> {
  if (smiles === undefined) return undefined;
  const early = precheckMolecule(smiles, null);
  const answer = early ? { kind: 'invalid' as const, issue: early.issue } : (await moleculeCache()).identifyWith(smiles);
  if (answer.kind !== 'identified') {
    throw badRequest(`invalid query parameter smiles: ${answer.issue}`, [{ path: 'smiles', issue: answer.issue }]);
  }
  return answer.identity.molecule_key;
}

export async function resolveFilters(f: CalculationFilters): Promise<ResolvedFilters> {
  const { smiles, user_id: _, ...rest } = f;
  return { ...rest, smiles_key: await resolveSmiles(smiles) };
}

/** The conjunction of the parts (`true` for none). */
export const and = (tx: Tx, parts: Fragment[]): Fragment =>
  parts.length === 0 ? tx`true` : parts.reduce((acc, p) => tx`${acc} and ${p}`);

export function filterClause(tx: Tx, f: ResolvedFilters): Fragment {
  const w: Fragment[] = [];
  if (f.energy_min !== undefined) w.push(tx`c.total_energy_eh >= ${f.energy_min}::float8`);
  if (f.energy_max !== undefined) w.push(tx`c.total_energy_eh <= ${f.energy_max}::float8`);
  if (f.gap_min !== undefined) w.push(tx`c.homo_lumo_gap_ev >= ${f.gap_min}::float8`);
  if (f.gap_max !== undefined) w.push(tx`c.homo_lumo_gap_ev <= ${f.gap_max}::float8`);
  if (f.dipole_min !== undefined) w.push(tx`c.dipole_debye >= ${f.dipole_min}::float8`);
  if (f.dipole_max !== undefined) w.push(tx`c.dipole_debye <= ${f.dipole_max}::float8`);
  if (f.method !== undefined) w.push(tx`c.method = ${f.method}`);
  if (f.task !== undefined) w.push(tx`c.task = ${f.task}`);
  if (f.solvent !== undefined) w.push(f.solvent === 'gas' ? tx`c.solvent is null` : tx`c.solvent = ${f.solvent}`);
  if (f.status !== undefined) w.push(tx`c.status = ${f.status}`);
  if (f.molecule_id !== undefined) w.push(tx`c.molecule_id = ${f.molecule_id}::uuid`);
  if (f.inchikey !== undefined) w.push(tx`m.inchikey = ${f.inchikey}`);
  if (f.smiles_key !== undefined) w.push(tx`m.molecule_key = ${f.smiles_key}`);
  if (f.formula !== undefined) w.push(tx`m.formula = ${f.formula}`);
  if (f.elements !== undefined) w.push(tx`public.formula_elements(m.formula) @> ${f.elements}::text[]`);
  if (f.n_atoms_min !== undefined) w.push(tx`m.n_atoms >= ${f.n_atoms_min}::int`);
  if (f.n_atoms_max !== undefined) w.push(tx`m.n_atoms <= ${f.n_atoms_max}::int`);
  if (f.batch_id !== undefined) {
    // Both links: the calculation each item is answered by (duplicate or not), and the item a
    // calculation was first produced for (ingest's batch_item_id).
    w.push(tx`c.id in (
      select i.calculation_id from public.batch_items i where i.batch_job_id = ${f.batch_id}::uuid and i.calculation_id is not null
      union all
      select k.id from public.calculations k join public.batch_items i on i.id = k.batch_item_id
       where i.batch_job_id = ${f.batch_id}::uuid)`);
  }
  if (f.xtb_version !== undefined) w.push(tx`c.xtb_version = ${f.xtb_version}`);
  if (f.spec !== undefined) {
    w.push(tx`c.specification_id in (select s.id from public.specifications s where s.spec_hash = ${f.spec})`);
  }
  if (f.unique_structures) w.push(tx`c.same_structure_as is null`);
  if (f.tag !== undefined) w.push(tx`c.tags @> ${[f.tag]}::text[]`);
  if (f.created_after !== undefined) w.push(tx`c.created_at >= ${f.created_after}::text::timestamptz`);
  if (f.created_before !== undefined) w.push(tx`c.created_at < ${f.created_before}::text::timestamptz`);
  return and(tx, w);
}
