// --dry-run: the molecule checks the ingest function applies (RDKit parses the SMILES; the formula
// with hydrogens is the geometry's), done here with the same RDKit and the same shared check, so a
// dry run reports `invalid` exactly where the server would reject.
import { checkMolecule } from '../../shared/chem/formula-check.ts';
import { MoleculeCache } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import type { ParsedJob } from '../../shared/xtb/index.ts';

/** Returns the rejection as the report tells it (`molecule.smiles: …`), or null. */
export async function dryRunChecks(): Promise<(job: ParsedJob) => string | null> {
  const cache = new MoleculeCache(await loadRDKit());
  const identify = (smiles: string) => cache.identify(smiles);
  return (job) => {
    const c = job.calculation!;
    const check = checkMolecule(identify, c.molecule.smiles, c.geometry.map((a) => a.element));
    return check.ok ? null : `${check.path}: ${check.issue}`;
  };
}
