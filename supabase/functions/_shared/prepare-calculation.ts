// Turns each raw item of an ingest request into a row-ready calculation, or into its errors:
// schema validation (native or QCSchema), RDKit identity, formula check, electron count and
// multiplicity, geometry hash, structure key, and the provenance's hashes.
import { IngestCalculation, type IngestCalculation as Calc } from '../../../shared/contract/ingest.ts';
import { isQcSchemaLike, QcSchemaAtomicResult, qcschemaToIngest } from '../../../shared/contract/qcschema.ts';
import type { ErrorDetail } from '../../../shared/contract/common.ts';
import { checkMolecule } from '../../../shared/chem/formula-check.ts';
import { geometrySha256 } from '../../../shared/chem/geometry.ts';
import type { MoleculeCache, MoleculeIdentity } from '../../../shared/chem/molecule.ts';
import { electronStateIssue } from '../../../shared/electron-count.ts';
import { structureKey } from '../../../shared/structure-key.ts';
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

export async function prepareItem(
  raw: unknown,
  index: number,
  molecules: MoleculeCache,
): Promise<PreparedItem | RejectedItem> {
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

  const check = checkMolecule((smiles) => molecules.identify(smiles), calc.molecule.smiles, calc.geometry.map((a) => a.element));
  if (!check.ok) return { index, errors: [{ path: `calculations[${index}].${check.path}`, issue: check.issue }] };
  const molecule = check.molecule;
  // The rule batch creation applies (shared/electron-count.ts), with the path of this item.
  const state = electronStateIssue(molecule, calc.charge, calc.multiplicity);
  if (state) return { index, errors: [{ path: `calculations[${index}].multiplicity`, issue: state }] };
  if (calc.provenance) {
    const issues = await provenanceIssues(calc.provenance);
    if (issues.length) return { index, errors: issues.map((e) => ({ path: `calculations[${index}].provenance.${e.path}`, issue: e.issue })) };
  }
  return {
    index, calc, molecule,
    geometrySha256: await geometrySha256(calc.geometry),
    structure: structureKey(calc.geometry),
  };
}

export const isRejected = (item: PreparedItem | RejectedItem): item is RejectedItem => 'errors' in item;
