// Distinct small molecules for benchmarks of first uploads: chains of 2 to 80 heavy atoms, the
// first positions C, N or O by the digits of a counter, deduplicated by molecule key, with a
// geometry of the right elements (atoms on a zigzag line: the server checks elements, not shape).
import { identifyMolecule, type RDKitModule } from '../../shared/chem/molecule.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';

export interface BenchMolecule {
  smiles: string;
  formula: string;
  /** Element symbols with hydrogens, heavy atoms first. */
  symbols: string[];
}

export function distinctMolecules(rdkit: RDKitModule, count: number, offset = 0): BenchMolecule[] {
  const seen = new Set<string>();
  const out: BenchMolecule[] = [];
  for (let i = 0; out.length < count; i++) {
    const length = 2 + (i % 79);
    let code = Math.floor(i / 79) + offset;
    let smiles = '';
    for (let k = 0; k < length; k++) {
      const digit = code % 3;
      code = Math.floor(code / 3);
      smiles += digit === 1 ? 'O' : digit === 2 ? 'N' : 'C';
    }
    const identity = identifyMolecule(rdkit, smiles);
    if (!identity || seen.has(identity.molecule_key)) continue;
    seen.add(identity.molecule_key);
    const heavy = [...identity.elements].filter(([e]) => e !== 'H').flatMap(([e, n]) => Array<string>(n).fill(e));
    out.push({ smiles, formula: identity.formula, symbols: [...heavy, ...Array<string>(identity.elements.get('H') ?? 0).fill('H')] });
  }
  return out;
}

export function zigzag(symbols: readonly string[], seed = 0): { element: string; xyz: [number, number, number] }[] {
  return symbols.map((element, i) => ({ element, xyz: [i * 1.25 + seed * 1e-4, (i % 2) * 0.8, (i % 3) * 0.6] }));
}

/** A completed GFN2 single point of the molecule, with per-atom charges, like an uploaded job. */
export function benchCalculation(m: BenchMolecule, seed = 0): IngestCalculationInput {
  const geometry = zigzag(m.symbols, seed);
  return {
    molecule: { smiles: m.smiles, name: null },
    method: 'GFN2-xTB',
    task: 'sp',
    solvent: null,
    status: 'completed',
    geometry,
    results: { total_energy_eh: -5 - geometry.length * 0.5 - seed * 1e-6, homo_lumo_gap_ev: 5, dipole_debye: 1.2, converged: true, xtb_version: '6.5.1' },
    charges: geometry.map((a) => (a.element === 'H' ? 0.05 : -0.05)),
    source: 'bench',
    tags: ['bench'],
  };
}
