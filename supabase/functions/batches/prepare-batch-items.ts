// Checks each item of a new batch on its own and turns it into a row-ready item, or into errors
// that name it (`items[3].geometry`), cheapest first: the schema and the SMILES text (size cap,
// heavy atoms against a geometry), then RDKit identity within the request's budget (503
// identification_budget beyond it), the geometry's elements against the molecule with hydrogens,
// and whether the charge and multiplicity fit its electron count.
import { CreateBatchItem } from '../../../shared/contract/batches.ts';
import type { ErrorDetail, Geometry } from '../../../shared/contract/common.ts';
import { electronStateIssue } from '../../../shared/electron-count.ts';
import { formulaCounts } from '../../../shared/chem/elements.ts';
import { geometryFormulaIssue, precheckMolecule } from '../../../shared/chem/formula-check.ts';
import type { MoleculeIdentity } from '../../../shared/chem/molecule.ts';
import type { Tx } from '../_shared/db.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import { requireAllIdentified, type Identify } from '../_shared/molecules.ts';
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
  molecule_key: string | null;
  molecule_id: string | null;
  name: string | null;
  charge: number;
  multiplicity: number;
  input_geometry: Geometry | null;
}

export interface MoleculeRow {
  molecule_key: string;
  inchikey: string;
  canonical_smiles: string;
  formula: string;
  n_atoms: number;
  name: string | null;
  input_smiles: string;
}

export interface PreparedBatch {
  items: BatchItemRow[];
  /** Distinct molecules of the SMILES items, by molecule key (the first spelling and name win). */
  molecules: Map<string, MoleculeRow>;
  /** Items in the request, valid or not. */
  total: number;
}

/** The molecule-level checks shared by SMILES items and items that name an existing molecule. */
export function checkItemAgainstMolecule(
  index: number,
  item: { charge: number; multiplicity: number; geometry?: Geometry | null },
  molecule: Pick<MoleculeIdentity, 'formula' | 'elements'>,
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

/**
 * The items of a new batch (or more items for one), row-ready; a 422 naming every invalid one, in
 * item order, or a 503 identification_budget when valid items' molecules were not all identified.
 */
export async function prepareBatchItems(identify: Identify, raw: readonly unknown[]): Promise<PreparedBatch> {
  const out: PreparedBatch = { items: [], molecules: new Map(), total: raw.length };
  const errors: ErrorDetail[] = [];
  const parsed: { index: number; item: CreateBatchItem }[] = [];
  raw.forEach((value, index) => {
    const result = CreateBatchItem.safeParse(value);
    if (!result.success) {
      errors.push(...zodDetails(result.error, ['items', index]));
      return;
    }
    const item = result.data;
    if (item.smiles !== undefined) {
      // The geometry is optional here: without one, only the SMILES itself and the size cap are checked.
      const early = precheckMolecule(item.smiles, item.geometry?.map((a) => a.element) ?? null);
      if (early) {
        errors.push({ path: `items[${index}].${early.path === 'geometry' ? 'geometry' : 'smiles'}`, issue: early.issue });
        return;
      }
    }
    parsed.push({ index, item });
  });
  const answers = await identify(parsed.flatMap(({ item }) => (item.smiles !== undefined ? [item.smiles] : [])));
  // A request already refused names what the budget reached; one that may be written needs every molecule.
  if (errors.length === 0) requireAllIdentified(answers);
  for (const { index, item } of parsed) {
    const row: BatchItemRow = {
      idx: index, molecule_key: null, molecule_id: item.molecule_id ?? null, name: item.name ?? null,
      charge: item.charge, multiplicity: item.multiplicity, input_geometry: item.geometry ?? null,
    };
    if (item.smiles !== undefined) {
      const answer = answers.get(item.smiles)!;
      if (answer.kind === 'deferred') continue;
      if (answer.kind !== 'identified') {
        errors.push({ path: `items[${index}].smiles`, issue: answer.issue });
        continue;
      }
      const identity = answer.identity;
      const problems = checkItemAgainstMolecule(index, item, identity, `the SMILES ${item.smiles}`);
      if (problems.length) {
        errors.push(...problems);
        continue;
      }
      row.molecule_key = identity.molecule_key;
      if (!out.molecules.has(identity.molecule_key)) {
        out.molecules.set(identity.molecule_key, {
          molecule_key: identity.molecule_key, inchikey: identity.inchikey, canonical_smiles: identity.canonical_smiles,
          formula: identity.formula, n_atoms: identity.n_atoms, name: item.name ?? null, input_smiles: item.smiles,
        });
      }
    }
    out.items.push(row);
  }
  if (errors.length) {
    // In item order, whichever pass found them.
    const itemOf = (e: ErrorDetail) => Number(/^items\[(\d+)\]/.exec(e.path)?.[1] ?? -1);
    throw invalidItems(errors.sort((a, b) => itemOf(a) - itemOf(b)), raw.length);
  }
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
  // A stored molecule's formula (Hill order, with hydrogens) is all these checks need: no RDKit.
  const found = new Map((await tx<{ id: string; formula: string }[]>`
    select id, formula from public.molecules where id = any (${ids}::uuid[])`).map((m) => [m.id, m.formula]));
  const errors: ErrorDetail[] = [];
  for (const item of byId) {
    const formula = found.get(item.molecule_id!);
    if (formula === undefined) {
      errors.push({ path: `items[${item.idx}].molecule_id`, issue: 'no such molecule' });
      continue;
    }
    errors.push(...checkItemAgainstMolecule(item.idx, {
      charge: item.charge, multiplicity: item.multiplicity, geometry: item.input_geometry,
    }, { formula, elements: formulaCounts(formula) }, `molecule ${item.molecule_id}`));
  }
  if (errors.length) throw invalidItems(errors, prepared.total);
}
