// Molecule identity with RDKit (WASM): canonical SMILES, the standard InChIKey, the molecule key
// (InChIKey of the InChI with the fixed-H layer, which keeps tautomers apart), Hill formula and
// atom count with hydrogens. The rule and its tested edge cases: docs/molecule-identity.md.
// The module is injected so Node and Deno load it their own way, once per process.
import { elementSymbol, hillFormula } from './elements.ts';

/** The part of RDKit's MinimalLib API used here. */
export interface RDKitModule {
  get_mol(input: string, details?: string): RDKitMol | null;
  get_inchikey_for_inchi(inchi: string): string;
  version(): string;
}
interface RDKitMol {
  is_valid(): boolean;
  get_smiles(): string;
  get_inchi(options?: string): string;
  get_json(): string;
  delete(): void;
}

export interface MoleculeIdentity {
  canonical_smiles: string;
  /** Standard InChIKey: searchable, shared by tautomers (2-pyridone and 2-hydroxypyridine). */
  inchikey: string;
  /** InChIKey of the fixed-H InChI: the molecule's identity per user. */
  molecule_key: string;
  formula: string;
  n_atoms: number;
  elements: Map<string, number>;
}

/**
 * What identification says about one SMILES. `invalid` is a property of the input (the same SMILES
 * is always invalid); `too_slow` means InChI gave up at its time limit, which depends on the machine.
 */
export type Identification =
  | { kind: 'identified'; identity: MoleculeIdentity }
  | { kind: 'invalid'; issue: string }
  | { kind: 'too_slow'; issue: string };

/**
 * The version of the whole derivation: RDKit's (and with it InChI's) and this file's rules. Stored
 * identities are keyed by it, so an upgrade of either identifies every SMILES afresh.
 */
export const IDENTITY_RULES = 'fixedh-1';
export const identityVersion = (rdkit: Pick<RDKitModule, 'version'>): string => `rdkit-${rdkit.version()}/${IDENTITY_RULES}`;

/** InChI's own time limit per call (ms) when the caller gives none. */
export const DEFAULT_INCHI_TIMEOUT_MS = 250;

interface JsonAtom { z?: number; impHs?: number }
interface MolJson {
  defaults?: { atom?: JsonAtom };
  molecules?: { atoms?: JsonAtom[] }[];
}

/**
 * Element counts with hydrogens, from RDKit's JSON: each atom's element and its hydrogen count.
 * (The molblock that add_hs() writes computes 2D coordinates first: 13 ms for a 40-atom chain
 * against 0.2 ms for this, and it switches to V3000 above 999 atoms.)
 */
function elementsOf(json: string): Map<string, number> | string {
  const doc = JSON.parse(json) as MolJson;
  const defaults = doc.defaults?.atom ?? {};
  const counts = new Map<string, number>();
  const add = (symbol: string, n: number) => {
    if (n > 0) counts.set(symbol, (counts.get(symbol) ?? 0) + n);
  };
  for (const atom of doc.molecules?.[0]?.atoms ?? []) {
    const z = atom.z ?? defaults.z ?? 6;
    const symbol = elementSymbol(z);
    if (!symbol) return z === 0 ? 'it has a dummy atom (*)' : `it has an atom of atomic number ${z}`;
    add(symbol, 1);
    add('H', atom.impHs ?? defaults.impHs ?? 0);
  }
  return counts;
}

export function identify(rdkit: RDKitModule, smiles: string, opts: { inchiTimeoutMs?: number } = {}): Identification {
  const timeoutMs = Math.max(1, Math.round(opts.inchiTimeoutMs ?? DEFAULT_INCHI_TIMEOUT_MS));
  const unparsable = { kind: 'invalid', issue: `RDKit cannot parse the SMILES ${JSON.stringify(smiles)}` } as const;
  // Default parsing removes explicit hydrogens into counts (isotopic ones stay atoms), so InChI
  // sees the same structure whichever way the hydrogens were written.
  const mol = rdkit.get_mol(smiles);
  if (!mol) return unparsable;
  try {
    if (!mol.is_valid()) return unparsable;
    const elements = elementsOf(mol.get_json());
    if (typeof elements === 'string') return { kind: 'invalid', issue: `InChI cannot identify the SMILES ${JSON.stringify(smiles)}: ${elements}` };
    const canonical = mol.get_smiles();
    const inchi = (options: string): { text: string; ms: number } => {
      const started = performance.now();
      const text = mol.get_inchi(`${options} -WM${timeoutMs}`.trim());
      return { text, ms: performance.now() - started };
    };
    const standard = inchi('');
    const fixedH = standard.text ? inchi('/FixedH') : standard;
    if (!standard.text || !fixedH.text) {
      // InChI answers an empty string both when it gives up at -WM and when it cannot represent
      // the structure: the time it took tells them apart.
      if (Math.max(standard.ms, fixedH.ms) >= timeoutMs * 0.9) {
        return { kind: 'too_slow', issue: `InChI did not finish within ${timeoutMs} ms` };
      }
      return { kind: 'invalid', issue: `InChI cannot identify the SMILES ${JSON.stringify(smiles)}` };
    }
    const inchikey = rdkit.get_inchikey_for_inchi(standard.text);
    const moleculeKey = rdkit.get_inchikey_for_inchi(fixedH.text);
    if (!inchikey || !moleculeKey) return { kind: 'invalid', issue: `InChI cannot identify the SMILES ${JSON.stringify(smiles)}` };
    let n = 0;
    for (const c of elements.values()) n += c;
    return {
      kind: 'identified',
      identity: { canonical_smiles: canonical, inchikey, molecule_key: moleculeKey, formula: hillFormula(elements), n_atoms: n, elements },
    };
  } finally {
    mol.delete();
  }
}

/** The identity, or null when the SMILES cannot be identified (for tools without a time budget). */
export function identifyMolecule(rdkit: RDKitModule, smiles: string): MoleculeIdentity | null {
  const r = identify(rdkit, smiles, { inchiTimeoutMs: 60_000 });
  return r.kind === 'identified' ? r.identity : null;
}

/** A small LRU of SMILES → identity: runners send the same few molecules over and over. */
export class MoleculeCache {
  private readonly map = new Map<string, Identification>();
  constructor(readonly rdkit: RDKitModule, private readonly capacity = 10_000) {}

  /** What is remembered for this SMILES, refreshing its place; undefined when nothing is. */
  peek(smiles: string): Identification | undefined {
    const hit = this.map.get(smiles);
    if (hit !== undefined) {
      this.map.delete(smiles);
      this.map.set(smiles, hit);
    }
    return hit;
  }

  /** Remembers an answer. A `too_slow` one is not remembered: another try may finish. */
  remember(smiles: string, answer: Identification): void {
    if (answer.kind === 'too_slow') return;
    this.map.delete(smiles);
    this.map.set(smiles, answer);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  /** Identifies with RDKit unless remembered. */
  identifyWith(smiles: string, opts: { inchiTimeoutMs?: number } = {}): Identification {
    const hit = this.peek(smiles);
    if (hit) return hit;
    const answer = identify(this.rdkit, smiles, opts);
    this.remember(smiles, answer);
    return answer;
  }

  /** The identity, or null (unparsable, or InChI gave up). */
  identify(smiles: string): MoleculeIdentity | null {
    const r = this.identifyWith(smiles);
    return r.kind === 'identified' ? r.identity : null;
  }
}
