// --dry-run: the molecule checks the ingest function applies (RDKit parses the SMILES; the formula
// with hydrogens is the geometry's; the charge and multiplicity fit the electron count), done here
// with the same RDKit and the same shared checks, so a dry run reports `invalid` exactly where the
// server would reject.
import { checkMolecule } from '../../shared/chem/formula-check.ts';
import { MoleculeCache } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import { electronStateIssue } from '../../shared/electron-count.ts';
import type { ParsedJob } from '../../shared/xtb/index.ts';

/** Returns the rejection as the report tells it (`molecule.smiles: …`), or null. */
export async function dryRunChecks(): Promise<(job: ParsedJob) => string | null> {
  const cache = new MoleculeCache(await loadRDKit());
  const identify = (smiles: string) => cache.identify(smiles);
  return (job) => {
    const c = job.calculation!;
    const check = checkMolecule(identify, c.molecule.smiles, c.geometry.map((a) => a.element));
    if (!check.ok) return `${check.path}: ${check.issue}`;
    const state = electronStateIssue(check.molecule, c.charge ?? 0, c.multiplicity ?? 1);
    return state ? `multiplicity: ${state}` : null;
  };
}
