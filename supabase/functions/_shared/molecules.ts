// RDKit and the SMILES → identity cache, loaded once per isolate on first use (~250 ms).
import { MoleculeCache } from '../../../shared/chem/molecule.ts';
import { loadRDKit } from '../../../shared/chem/rdkit.ts';

let cache: Promise<MoleculeCache> | undefined;

export const moleculeCache = (): Promise<MoleculeCache> =>
  (cache ??= loadRDKit().then((rdkit) => new MoleculeCache(rdkit)));
