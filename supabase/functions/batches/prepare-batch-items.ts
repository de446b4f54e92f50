// Checks each item of a new batch on its own and turns it into a row-ready item, or into errors
// that name it (`items[3].geometry`): the schema, RDKit identity, the geometry's elements against
// the molecule with hydrogens, and whether the charge and multiplicity fit its electron count.
import { CreateBatchItem } from '../../../shared/contract/batches.ts';
import type { ErrorDetail, Geometry } from '../../../shared/contract/common.ts';
import { electronStateIssue } from '../../../shared/electron-count.ts';
import { geometryFormulaIssue } from '../../../shared/chem/formula-check.ts';
import type { MoleculeCache, MoleculeIdentity } from '../../../shared/chem/molecule.ts';
import type { Tx } from '../_shared/db.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import { moleculeCache } from '../_shared/molecules.ts';
import { zodDetails } from '../_shared/validate.ts';

const MAX_DETAILS = 200;

/** 422 naming every invalid item (the first 200 details); nothing is written. */
export function invalidItems(errors: ErrorDetail[], total: number): ApiError {
  const items = new Set(errors.map((e) => /^items\[(\d+)\]/.exec(e.path)?.[1])).size;
  return new ApiError(422, ErrorCode.invalidPayload,
    `${items} of ${total} items are invalid (first: ${errors[0].path}: ${errors[0].issue}); nothing was written`,
    errors.slice(0, MAX_DETAILS));
}

export interface BatchItemRow {
  idx: number;
  /** Set for items given by SMILES; items given by id carry molecule_id instead. */
  inchikey: string | null;
  molecule_id: string | null;
  name: string | null;
  charge: number;
  multiplicity: number;
  input_geometry: Geometry | null;
}

export interface MoleculeRow {
  inchikey: string;
  canonical_smiles: string;
  formula: string;
  n_atoms: number;
  name: string | null;
  input_smiles: string;
}

export interface PreparedBatch {
  items: BatchItemRow[];
  /** Distinct molecules of the SMILES items, by InChIKey (the first spelling and name win). */
  molecules: Map<string, MoleculeRow>;
  /** Items in the request, valid or not. */
  total: number;
  cache: MoleculeCache;
}

/** The molecule-level checks shared by SMILES items and items that name an existing molecule. */
export function checkItemAgainstMolecule(
  index: number,
  item: { charge: number; multiplicity: number; geometry?: Geometry | null },
  molecule: MoleculeIdentity,
  label: string,
): ErrorDetail[] {
  const at = `items[${index}]`;
  if (item.geometry) {
    const issue = geometryFormulaIssue(item.geometry.map((a) => a.element), molecule, label);
    if (issue) return [{ path: `${at}.geometry`, issue }];
  }
  // The rule ingest applies too (shared/electron-count.ts).
  const state = electronStateIssue(molecule, item.charge, item.multiplicity);
  return state ? [{ path: `${at}.multiplicity`, issue: state }] : [];
}

/** The items of a new batch (or more items for one), row-ready; a 422 naming every invalid one. */
export async function prepareBatchItems(raw: readonly unknown[]): Promise<PreparedBatch> {
  const molecules = await moleculeCache();
  const out: PreparedBatch = { items: [], molecules: new Map(), total: raw.length, cache: molecules };
  const errors: ErrorDetail[] = [];
  raw.forEach((value, index) => {
    const parsed = CreateBatchItem.safeParse(value);
    if (!parsed.success) {
      errors.push(...zodDetails(parsed.error, ['items', index]));
      return;
    }
    const item = parsed.data;
    const row: BatchItemRow = {
      idx: index, inchikey: null, molecule_id: item.molecule_id ?? null, name: item.name ?? null,
      charge: item.charge, multiplicity: item.multiplicity, input_geometry: item.geometry ?? null,
    };
    if (item.smiles !== undefined) {
      const identity = molecules.identify(item.smiles);
      if (!identity) {
        errors.push({ path: `items[${index}].smiles`, issue: `RDKit cannot parse the SMILES ${JSON.stringify(item.smiles)}` });
        return;
      }
      const problems = checkItemAgainstMolecule(index, item, identity, `the SMILES ${item.smiles}`);
      if (problems.length) {
        errors.push(...problems);
        return;
      }
      row.inchikey = identity.inchikey;
      if (!out.molecules.has(identity.inchikey)) {
        out.molecules.set(identity.inchikey, {
          inchikey: identity.inchikey, canonical_smiles: identity.canonical_smiles, formula: identity.formula,
          n_atoms: identity.n_atoms, name: item.name ?? null, input_smiles: item.smiles,
        });
      }
    }
    out.items.push(row);
  });
  if (errors.length) throw invalidItems(errors, raw.length);
  return out;
}

/**
 * Items that name an existing molecule: it must be the caller's (RLS hides the others), and the
 * item must fit it. Runs in the request's transaction; throws invalidItems() otherwise.
 */
export async function checkMoleculeRefs(tx: Tx, prepared: PreparedBatch): Promise<void> {
  const byId = prepared.items.filter((i) => i.molecule_id);
  if (byId.length === 0) return;
  const ids = [...new Set(byId.map((i) => i.molecule_id!))];
  const found = new Map((await tx<{ id: string; canonical_smiles: string }[]>`
    select id, canonical_smiles from public.molecules where id = any (${ids}::uuid[])`).map((m) => [m.id, m.canonical_smiles]));
  const errors: ErrorDetail[] = [];
  for (const item of byId) {
    const smiles = found.get(item.molecule_id!);
    const identity = smiles === undefined ? null : prepared.cache.identify(smiles);
    if (!identity) {
      errors.push({ path: `items[${item.idx}].molecule_id`, issue: 'no such molecule' });
      continue;
    }
    errors.push(...checkItemAgainstMolecule(item.idx, {
      charge: item.charge, multiplicity: item.multiplicity, geometry: item.input_geometry,
    }, identity, `molecule ${item.molecule_id}`));
  }
  if (errors.length) throw invalidItems(errors, prepared.total);
}
