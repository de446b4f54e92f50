// The molecule checks the ingest function applies to every item, as one pure function, so that the
// uploader's --dry-run rejects exactly what the server would: a SMILES RDKit cannot parse, and a
// geometry whose elements are not the SMILES' formula with hydrogens. The issue texts are the server's.
import { elementCounts, hillFormula } from './elements.ts';
import type { MoleculeIdentity } from './molecule.ts';

export type MoleculeCheck =
  | { ok: true; molecule: MoleculeIdentity }
  /** `path` is relative to the calculation: `molecule.smiles` or `geometry`. */
  | { ok: false; path: 'molecule.smiles' | 'geometry'; issue: string };

const sameCounts = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** `identify` is MoleculeCache.identify (or identifyMolecule bound to an RDKit module). */
export function checkMolecule(
  identify: (smiles: string) => MoleculeIdentity | null,
  smiles: string,
  elements: readonly string[],
): MoleculeCheck {
  const molecule = identify(smiles);
  if (!molecule) {
    return { ok: false, path: 'molecule.smiles', issue: `RDKit cannot parse the SMILES ${JSON.stringify(smiles)}` };
  }
  const issue = geometryFormulaIssue(elements, molecule, `the SMILES ${smiles}`);
  return issue ? { ok: false, path: 'geometry', issue } : { ok: true, molecule };
}

/** Why a geometry's elements are not the molecule's (with hydrogens), or undefined when they are. */
export function geometryFormulaIssue(elements: readonly string[], molecule: MoleculeIdentity, label: string): string | undefined {
  const fromGeometry = elementCounts(elements);
  if (sameCounts(fromGeometry, molecule.elements)) return undefined;
  return `the geometry is ${hillFormula(fromGeometry)} but ${label} is ${molecule.formula} (with hydrogens)`;
}
