// Whether a charge and a multiplicity are possible for a molecule: the one rule that batch creation
// and ingest (and the uploader's --dry-run, through ingest's checks) apply. With N electrons
// (protons minus charge) and U = multiplicity − 1 unpaired ones, N − U must be even and U ≤ N.
import { atomicNumber } from './chem/elements.ts';

/** The part of a molecule's identity the rule needs: element counts with hydrogens, and the formula for the message. */
export interface ElectronCountMolecule {
  elements: ReadonlyMap<string, number>;
  formula: string;
}

export function electronCount(molecule: ElectronCountMolecule, charge: number): number {
  let protons = 0;
  for (const [element, n] of molecule.elements) protons += (atomicNumber(element) ?? 0) * n;
  return protons - charge;
}

/** Why the state is impossible (the issue text of a `…multiplicity` error), or undefined when it is possible. */
export function electronStateIssue(molecule: ElectronCountMolecule, charge: number, multiplicity: number): string | undefined {
  const electrons = electronCount(molecule, charge);
  const unpaired = multiplicity - 1;
  if (electrons < 0 || unpaired > electrons || (electrons - unpaired) % 2 !== 0) {
    return `multiplicity ${multiplicity} is impossible for ${molecule.formula} with charge ${charge} (${electrons} electrons)`;
  }
  return undefined;
}
