// Molecule identity with RDKit (WASM): canonical SMILES, InChIKey, Hill formula and atom count with
// hydrogens. The module is injected so Node and Deno load it their own way, once per process.
import { elementCounts, hillFormula } from './elements.ts';

/** The part of RDKit's MinimalLib API used here. */
export interface RDKitModule {
  get_mol(input: string, details?: string): RDKitMol | null;
  get_inchikey_for_inchi(inchi: string): string;
}
interface RDKitMol {
  is_valid(): boolean;
  get_smiles(): string;
  get_inchi(): string;
  add_hs(): string;
  delete(): void;
}

export interface MoleculeIdentity {
  canonical_smiles: string;
  inchikey: string;
  formula: string;
  n_atoms: number;
  elements: Map<string, number>;
}

/** Element symbols of a V2000 molblock's atom block (columns 32–34 of each atom line). */
function molblockSymbols(molblock: string): string[] {
  const lines = molblock.split('\n');
  const counts = lines[3] ?? '';
  const nAtoms = Number(counts.slice(0, 3));
  if (!counts.includes('V2000') || !Number.isInteger(nAtoms)) throw new Error('RDKit returned no V2000 molblock');
  return lines.slice(4, 4 + nAtoms).map((line) => line.slice(31, 34).trim());
}

export function identifyMolecule(rdkit: RDKitModule, smiles: string): MoleculeIdentity | null {
  // Keep RDKit from printing parse errors for every bad SMILES: the caller reports them.
  const mol = rdkit.get_mol(smiles, JSON.stringify({ removeHs: false }));
  if (!mol) return null;
  try {
    if (!mol.is_valid()) return null;
    const inchi = mol.get_inchi();
    const inchikey = inchi ? rdkit.get_inchikey_for_inchi(inchi) : '';
    if (!inchikey) return null;
    const elements = elementCounts(molblockSymbols(mol.add_hs()));
    let n = 0;
    for (const c of elements.values()) n += c;
    return { canonical_smiles: mol.get_smiles(), inchikey, formula: hillFormula(elements), n_atoms: n, elements };
  } finally {
    mol.delete();
  }
}

/** A small LRU of SMILES → identity: runners send the same few molecules over and over. */
export class MoleculeCache {
  private readonly map = new Map<string, MoleculeIdentity | null>();
  constructor(private readonly rdkit: RDKitModule, private readonly capacity = 10_000) {}

  identify(smiles: string): MoleculeIdentity | null {
    if (this.map.has(smiles)) {
      const hit = this.map.get(smiles)!;
      this.map.delete(smiles);
      this.map.set(smiles, hit);
      return hit;
    }
    const identity = identifyMolecule(this.rdkit, smiles);
    this.map.set(smiles, identity);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return identity;
  }
}
