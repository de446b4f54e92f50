// Turns the raw items of an ingest (or a batch completion) into row-ready calculations, into their
// errors, or into `deferred` when the request's RDKit budget ran out before their molecule. Cheapest
// first, and every item on its own (nothing one item holds can throw for its neighbours):
//   1. shape: QCSchema or native schema, text Postgres can store, integers that fit;
//   2. the SMILES text against the geometry (size cap, heavy atoms per element), the provenance's
//      hashes, geometry hash;
//   3. identities of the distinct SMILES left (remembered, or RDKit within the budget);
//   4. the formula with hydrogens against the geometry, electron count and multiplicity, and the
//      structure key.
import { IngestCalculation, type IngestCalculation as Calc } from '../../../shared/contract/ingest.ts';
import { isQcSchemaLike, QcSchemaAtomicResult, qcschemaToIngest } from '../../../shared/contract/qcschema.ts';
import { MAX_SMILES_LENGTH, type ErrorDetail } from '../../../shared/contract/common.ts';
import { checkFormula, precheckMolecule } from '../../../shared/chem/formula-check.ts';
import { geometrySha256 } from '../../../shared/chem/geometry.ts';
import type { MoleculeIdentity } from '../../../shared/chem/molecule.ts';
import { electronStateIssue } from '../../../shared/electron-count.ts';
import { structureKey } from '../../../shared/structure-key.ts';
import type { Answer, Identify } from './molecules.ts';
import { provenanceIssues } from './verify-provenance.ts';
import { zodDetails } from './validate.ts';

export interface PreparedItem {
  index: number;
  calc: Calc;
  molecule: MoleculeIdentity;
  geometrySha256: string;
  /** Sorted interatomic distances per element pair (shared/structure-key.ts), or null above its atom limit. */
  structure: number[] | null;
}

export interface RejectedItem {
  index: number;
  errors: ErrorDetail[];
}

/** Not checked to the end because the request's RDKit budget was spent: send it again. */
export interface DeferredItem {
  index: number;
  deferred: ErrorDetail[];
}

export type ItemOutcome = PreparedItem | RejectedItem | DeferredItem;

interface ShapedItem {
  index: number;
  calc: Calc;
  geometrySha256: string;
}

const reject = (index: number, path: string, issue: string): RejectedItem =>
  ({ index, errors: [{ path: `calculations[${index}]${path ? `.${path}` : ''}`, issue }] });

/** Steps 1 and 2: everything that needs no RDKit. */
async function shapeItem(raw: unknown, index: number): Promise<ShapedItem | RejectedItem> {
  const at = ['calculations', index] as const;
  let candidate: unknown = raw;
  if (isQcSchemaLike(raw)) {
    const qc = QcSchemaAtomicResult.safeParse(raw);
    if (!qc.success) return { index, errors: zodDetails(qc.error, at) };
    candidate = qcschemaToIngest(qc.data);
  }
  const parsed = IngestCalculation.safeParse(candidate);
  if (!parsed.success) return { index, errors: zodDetails(parsed.error, at) };
  const calc = parsed.data;
  const early = precheckMolecule(calc.molecule.smiles, calc.geometry.map((a) => a.element));
  if (early) return reject(index, early.path, early.issue);
  if (calc.provenance) {
    const issues = await provenanceIssues(calc.provenance);
    if (issues.length) return { index, errors: issues.map((e) => ({ path: `calculations[${index}].provenance.${e.path}`, issue: e.issue })) };
  }
  return { index, calc, geometrySha256: await geometrySha256(calc.geometry) };
}

/** Step 4, once the molecule's answer is known. */
function finishItem(item: ShapedItem, answer: Answer): ItemOutcome {
  const { index, calc } = item;
  switch (answer.kind) {
    case 'deferred':
      return { index, deferred: [{ path: `calculations[${index}].molecule.smiles`, issue: answer.issue }] };
    case 'invalid':
      return reject(index, 'molecule.smiles', answer.issue);
    case 'too_slow':
      return reject(index, 'molecule.smiles',
        `identifying this molecule needs more than the per-molecule budget: ${answer.issue} (docs/molecule-identity.md)`);
    case 'identified': {
      const molecule = answer.identity;
      const wrong = checkFormula(molecule, calc.molecule.smiles, calc.geometry.map((a) => a.element));
      if (wrong) return reject(index, wrong.path, wrong.issue);
      if (molecule.canonical_smiles.length > MAX_SMILES_LENGTH) {
        return reject(index, 'molecule.smiles', `its canonical SMILES is longer than ${MAX_SMILES_LENGTH} characters`);
      }
      // The rule batch creation applies (shared/electron-count.ts), with the path of this item.
      const state = electronStateIssue(molecule, calc.charge, calc.multiplicity);
      if (state) return reject(index, 'multiplicity', state);
      return { index, calc, molecule, geometrySha256: item.geometrySha256, structure: structureKey(calc.geometry) };
    }
  }
}

/** The atoms an item brings, read without validating it (native or QCSchema); 0 when unreadable. */
function atomsOf(raw: unknown): number {
  const r = raw as { geometry?: unknown; molecule?: { symbols?: unknown } } | null;
  const list = Array.isArray(r?.geometry) ? r.geometry : Array.isArray(r?.molecule?.symbols) ? r.molecule.symbols : [];
  return list.length;
}

/**
 * Steps 1 to 4 for every item; one outcome per item, in order. Items after the first `maxAtoms`
 * atoms (counted in order, whatever their outcome) are `deferred` unchecked: checking and storing
 * cost about 20 µs of CPU per atom.
 */
export async function prepareItems(
  identify: Identify,
  raws: readonly unknown[],
  maxAtoms = Number.POSITIVE_INFINITY,
): Promise<ItemOutcome[]> {
  let atoms = 0;
  const shaped = await Promise.all(raws.map(async (raw, index): Promise<ShapedItem | RejectedItem | DeferredItem> => {
    const n = atomsOf(raw);
    if (index > 0 && atoms + n > maxAtoms) {
      return {
        index,
        deferred: [{ path: `calculations[${index}]`, issue: `not checked: this request already carries ${atoms} atoms; at most ${maxAtoms} are checked per request, send it again` }],
      };
    }
    atoms += n;
    try {
      return await shapeItem(raw, index);
    } catch (err) {
      // A bug must cost this item only, not its neighbours; the log says which.
      console.error(`checking calculations[${index}] failed`, err);
      return reject(index, '', 'this item could not be checked (internal error); it was not stored');
    }
  }));
  const smiles = shaped.flatMap((s) => ('calc' in s ? [s.calc.molecule.smiles] : []));
  const answers = await identify(smiles);
  return shaped.map((s) => ('calc' in s ? finishItem(s, answers.get(s.calc.molecule.smiles)!) : s));
}

export const isRejected = (item: ItemOutcome): item is RejectedItem => 'errors' in item;
export const isDeferred = (item: ItemOutcome): item is DeferredItem => 'deferred' in item;
