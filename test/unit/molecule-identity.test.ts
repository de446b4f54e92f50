// The molecule key rule (docs/molecule-identity.md), on the edge cases it was chosen for: tautomers
// apart, spellings together, stereo, charge and isotopes apart; and the checks before RDKit.
import { beforeAll, describe, expect, it } from 'vitest';
import { precheckMolecule } from '../../shared/chem/formula-check.ts';
import { identify, identifyMolecule, type MoleculeIdentity, type RDKitModule } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import { smilesAtoms } from '../../shared/chem/smiles-atoms.ts';
import { MAX_HEAVY_ATOMS } from '../../shared/contract/common.ts';

let rdkit: RDKitModule;
beforeAll(async () => {
  rdkit = await loadRDKit();
});

const id = (smiles: string): MoleculeIdentity => {
  const m = identifyMolecule(rdkit, smiles);
  if (!m) throw new Error(`not identified: ${smiles}`);
  return m;
};
const keys = (...smiles: string[]) => new Set(smiles.map((s) => id(s).molecule_key)).size;
const stdKeys = (...smiles: string[]) => new Set(smiles.map((s) => id(s).inchikey)).size;

describe('the molecule key', () => {
  it('keeps 2-pyridone and 2-hydroxypyridine apart, with one standard InChIKey between them', () => {
    const pyridone = id('O=c1cccc[nH]1');
    const hydroxypyridine = id('Oc1ccccn1');
    expect(pyridone.inchikey).toBe('UBQKCCHYAOITMY-UHFFFAOYSA-N');
    expect(hydroxypyridine.inchikey).toBe('UBQKCCHYAOITMY-UHFFFAOYSA-N');
    expect(pyridone.molecule_key).not.toBe(hydroxypyridine.molecule_key);
    expect(pyridone.molecule_key).toMatch(/^UBQKCCHYAOITMY-[A-Z]{8}NA-N$/);
    // Other tautomer pairs: keto/enol, and the amide/imidic acid of acetamide.
    expect(keys('CC(=O)C', 'CC(O)=C')).toBe(2);
    expect(keys('CC(N)=O', 'CC(O)=N')).toBe(2);
    expect(stdKeys('CC(N)=O', 'CC(O)=N')).toBe(1);
  });

  it('is one key for every spelling of a molecule: atom order, explicit hydrogens, Kekulé or aromatic, nitro forms', () => {
    expect(keys('CCO', 'OCC', 'C(O)C', '[H]OC([H])([H])C([H])([H])[H]', '[CH3][CH2][OH]')).toBe(1);
    expect(keys('c1ccccc1', 'C1=CC=CC=C1', 'C1C=CC=CC=1')).toBe(1);
    expect(keys('C[N+](=O)[O-]', 'CN(=O)=O')).toBe(1);
  });

  it('keeps stereoisomers apart, and apart from the unspecified molecule', () => {
    expect(keys('C[C@H](N)C(=O)O', 'C[C@@H](N)C(=O)O', 'CC(N)C(=O)O')).toBe(3);
    expect(keys('N[C@@H](C)C(=O)O', 'C[C@H](N)C(=O)O')).toBe(1); // the same L-alanine written two ways
    expect(keys('C/C=C/C', 'C/C=C\\C', 'CC=CC')).toBe(3);
    expect(keys('C/C=C/C', 'C\\C=C\\C')).toBe(1);
  });

  it('keeps charge and protonation states apart: acid and anion, ammonia and ammonium, zwitterion and neutral', () => {
    expect(keys('CC(=O)O', 'CC(=O)[O-]')).toBe(2);
    expect(keys('N', '[NH4+]')).toBe(2);
    // Glycine: the standard InChI folds the zwitterion into the neutral form; the fixed-H one does not.
    expect(stdKeys('NCC(=O)O', '[NH3+]CC(=O)[O-]')).toBe(1);
    expect(keys('NCC(=O)O', '[NH3+]CC(=O)[O-]')).toBe(2);
    // Salts: the same ions in any order are one molecule.
    expect(keys('[Na+].CC(=O)[O-]', 'CC(=O)[O-].[Na+]')).toBe(1);
  });

  it('keeps isotopologues apart', () => {
    expect(keys('C', '[2H]C', '[13CH4]', '[2H]C([2H])([2H])[2H]')).toBe(4);
    expect(id('[2H]C').formula).toBe('CH4'); // deuterium is hydrogen in the formula and the geometry
    expect(keys('[2H]OC', 'OC[2H]')).toBe(2);
  });
});

describe('identification', () => {
  it('counts atoms with hydrogens from RDKit, without molblocks (which switch to V3000 above 999 atoms)', () => {
    expect(id('[NH4+]')).toMatchObject({ formula: 'H4N', n_atoms: 5 });
    expect(id('[H][H]')).toMatchObject({ formula: 'H2', n_atoms: 2 });
    expect(id('[2H]C([2H])([2H])[2H]')).toMatchObject({ formula: 'CH4', n_atoms: 5 });
    const big = id(`${'C'.repeat(399)}O`);
    expect(big).toMatchObject({ formula: 'C399H800O', n_atoms: 1200 });
  });

  it('says invalid for what RDKit or InChI cannot take, and too_slow when InChI gives up at its limit', () => {
    expect(identify(rdkit, 'C1CC').kind).toBe('invalid');
    expect(identify(rdkit, '[OH3]').kind).toBe('invalid');
    expect(identify(rdkit, '*C')).toMatchObject({ kind: 'invalid', issue: expect.stringMatching(/dummy atom/) });
    expect(identify(rdkit, 'C(F)(F)'.repeat(160), { inchiTimeoutMs: 5 }).kind).toBe('too_slow');
  });
});

describe('the checks before RDKit', () => {
  const CORPUS = [
    'O', 'CCO', 'c1ccncc1', '[NH4+]', '[CH3]', 'Oc1ccccc1', 'CC(=O)[O-]', 'C1=CC=CC=C1', 'C#C', 'O=c1cccc[nH]1',
    '[2H]C', '[13CH3]C(=O)[O-]', 'ClC(Cl)Cl', 'BrCCBr', 'C[Se]C', 'c1cc[se]c1', '[Sc+3]', '[Co]', 'c1ccc2ccccc2c1',
    'C%10CC%10', 'C1CC2CC1C2', '[Na+].[Cl-]', 'F/C=C/F', 'N[C@@H](C)C(=O)O', '[H]OC([H])([H])[H]', 'CCO ethanol',
    '[#6]C', '[nH]1cccc1', 'B1OC=CO1', 'S(=O)(=O)(O)O', '[Fe+2]', 'CN1C=NC2=C1C(=O)N(C(=O)N2C)C', 'C1CCCCC1 |$R;;;;;$|',
  ];

  it('counts the same heavy atoms per element as RDKit', () => {
    for (const smiles of CORPUS) {
      const text = smilesAtoms(smiles);
      if (!text.ok) throw new Error(`${smiles}: ${text.issue}`);
      const heavyRdkit = new Map([...id(smiles).elements].filter(([e]) => e !== 'H'));
      expect(Object.fromEntries(text.heavy), smiles).toEqual(Object.fromEntries(heavyRdkit));
    }
  });

  it('refuses what is not SMILES, and more heavy atoms than the cap, before RDKit sees it', () => {
    expect(smilesAtoms('C1CC')).toMatchObject({ ok: false, issue: 'ring bond 1 is never closed' });
    expect(smilesAtoms('C(C')).toMatchObject({ ok: false });
    expect(smilesAtoms('CC)')).toMatchObject({ ok: false });
    expect(smilesAtoms('C[Xx]')).toMatchObject({ ok: false });
    expect(smilesAtoms('C;C')).toMatchObject({ ok: false });
    const capped = precheckMolecule('C'.repeat(MAX_HEAVY_ATOMS + 1), null);
    expect(capped).toMatchObject({ path: 'molecule.smiles', issue: expect.stringMatching(/501 heavy atoms; at most 500/) });
    expect(precheckMolecule('C'.repeat(MAX_HEAVY_ATOMS), null)).toBeUndefined();
    // The issue's pathological SMILES: 840 heavy atoms.
    expect(precheckMolecule('C(F)(F)'.repeat(280), null)?.issue).toMatch(/840 heavy atoms/);
  });

  it('compares the heavy atoms with the geometry (hydrogens are the only atoms a SMILES leaves out)', () => {
    expect(precheckMolecule('CCO', ['C', 'C', 'O', 'H', 'H', 'H', 'H', 'H', 'H'])).toBeUndefined();
    expect(precheckMolecule('CCO', ['C', 'C', 'O'])).toBeUndefined(); // hydrogens are RDKit's to count
    expect(precheckMolecule('CCO', ['C', 'O', 'H'])).toMatchObject({ path: 'geometry', issue: expect.stringMatching(/heavy atoms are CO but the SMILES CCO has C2O/) });
    expect(precheckMolecule('*C', ['C', 'H', 'H', 'H'])).toMatchObject({ path: 'geometry' });
  });
});
