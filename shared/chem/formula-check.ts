// The molecule checks the ingest function applies to every item, as pure functions, so that the
// uploader's --dry-run rejects exactly what the server would. Cheapest first: `precheckMolecule`
// reads the SMILES text against the geometry (no RDKit: size cap, heavy atoms per element), then
// `checkMolecule` identifies it with RDKit and compares the formula with hydrogens. The issue texts
// are the server's.
import { MAX_HEAVY_ATOMS } from '../contract/common.ts';
import { elementCounts, hillFormula } from './elements.ts';
import type { MoleculeIdentity } from './molecule.ts';
import { smilesAtoms } from './smiles-atoms.ts';

export type MoleculeCheck =
  | { ok: true; molecule: MoleculeIdentity }
  /** `path` is relative to the calculation: `molecule.smiles` or `geometry`. */
  | { ok: false; path: 'molecule.smiles' | 'geometry'; issue: string };

export type MoleculeIssue = Extract<MoleculeCheck, { ok: false }>;

const sameCounts = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

const withoutHydrogen = (counts: Map<string, number>) => new Map([...counts].filter(([k]) => k !== 'H'));

/**
 * The checks that need no RDKit, and bound what RDKit is given: the SMILES must be SMILES, write at
 * most MAX_HEAVY_ATOMS heavy atoms, and write exactly the geometry's heavy atoms (hydrogens are the
 * only atoms a SMILES may leave implicit). `elements` null: there is no geometry (a batch item).
 * Undefined when it passes.
 */
export function precheckMolecule(smiles: string, elements: readonly string[] | null): MoleculeIssue | undefined {
  const atoms = smilesAtoms(smiles);
  if (!atoms.ok) return { ok: false, path: 'molecule.smiles', issue: `cannot parse the SMILES ${JSON.stringify(smiles)}: ${atoms.issue}` };
  if (atoms.heavyAtoms > MAX_HEAVY_ATOMS) {
    return {
      ok: false, path: 'molecule.smiles',
      issue: `the SMILES has ${atoms.heavyAtoms} heavy atoms; at most ${MAX_HEAVY_ATOMS} can be identified (docs/molecule-identity.md)`,
    };
  }
  if (elements === null) return undefined; // no geometry to compare with
  const geometry = withoutHydrogen(elementCounts(elements));
  if (!sameCounts(geometry, atoms.heavy)) {
    return {
      ok: false, path: 'geometry',
      issue: `the geometry's heavy atoms are ${hillFormula(geometry) || 'none'} but the SMILES ${smiles} has ${hillFormula(atoms.heavy) || 'none'}`,
    };
  }
  return undefined;
}

/** `identify` is MoleculeCache.identify (or identifyMolecule bound to an RDKit module). */
export function checkMolecule(
  identify: (smiles: string) => MoleculeIdentity | null,
  smiles: string,
  elements: readonly string[],
): MoleculeCheck {
  const early = precheckMolecule(smiles, elements);
  if (early) return early;
  const molecule = identify(smiles);
  if (!molecule) {
    return { ok: false, path: 'molecule.smiles', issue: `RDKit cannot parse the SMILES ${JSON.stringify(smiles)}` };
  }
  return checkFormula(molecule, smiles, elements) ?? { ok: true, molecule };
}

/** The formula check once the molecule is identified: undefined when the geometry is the molecule. */
export function checkFormula(molecule: MoleculeIdentity, smiles: string, elements: readonly string[]): MoleculeIssue | undefined {
  const issue = geometryFormulaIssue(elements, molecule, `the SMILES ${smiles}`);
  return issue ? { ok: false, path: 'geometry', issue } : undefined;
}

/** Why a geometry's elements are not the molecule's (with hydrogens), or undefined when they are. */
export function geometryFormulaIssue(
  elements: readonly string[],
  molecule: Pick<MoleculeIdentity, 'formula' | 'elements'>,
  label: string,
): string | undefined {
  const fromGeometry = elementCounts(elements);
  if (sameCounts(fromGeometry, molecule.elements)) return undefined;
  return `the geometry is ${hillFormula(fromGeometry)} but ${label} is ${molecule.formula} (with hydrogens)`;
}
