// The atoms a SMILES writes, counted by reading the text alone (no RDKit): the cheap check that runs
// before any RDKit work. A molecule's heavy atoms (every element but hydrogen) are all written in
// its SMILES, so they must be exactly the heavy atoms of the geometry; only hydrogens are implied.
// The reader follows the OpenSMILES grammar plus RDKit's dative bonds (`->`, `<-`); everything after
// the first blank (a CXSMILES `|…|` block, a name) writes no atom and is not read.
import { atomicNumber, elementSymbol } from './elements.ts';

export type SmilesAtoms =
  | { ok: true; heavy: Map<string, number>; heavyAtoms: number; hydrogens: number }
  | { ok: false; issue: string };

const ORGANIC_TWO = new Set(['Cl', 'Br']);
const ORGANIC_ONE = new Set(['B', 'C', 'N', 'O', 'P', 'S', 'F', 'I']);
const AROMATIC_ONE = new Set(['b', 'c', 'n', 'o', 'p', 's']);
// Bonds, branches, ring-bond digits and RDKit's dative arrows: they write no atom.
const NOT_ATOMS = new Set(['-', '=', '#', '$', ':', '/', '\\', '.', '<', '>', '~']);

const capitalised = (s: string) => s[0].toUpperCase() + s.slice(1);

/** The element of a bracket atom's text (`13CH3+`, `nH`, `Fe+2`, `se`), or undefined. */
function bracketElement(inner: string): string | undefined {
  let i = 0;
  while (i < inner.length && inner[i] >= '0' && inner[i] <= '9') i++; // isotope
  const rest = inner.slice(i);
  if (rest.startsWith('*')) return '*';
  const byNumber = /^#(\d+)/.exec(rest); // RDKit's [#6]
  if (byNumber) return elementSymbol(Number(byNumber[1]));
  const two = rest.slice(0, 2);
  // Two letters when they name an element (Cl, Sc, Fe) or an aromatic one (se, as, te).
  if (two.length === 2 && /^[A-Za-z][a-z]$/.test(two) && atomicNumber(capitalised(two)) !== undefined) return capitalised(two);
  const one = rest.slice(0, 1);
  if (/^[A-Za-z]$/.test(one) && atomicNumber(one.toUpperCase()) !== undefined) return one.toUpperCase();
  return undefined;
}

/** Counts the atoms of a SMILES by element; `issue` names the first thing that is not SMILES. */
export function smilesAtoms(smiles: string): SmilesAtoms {
  const heavy = new Map<string, number>();
  let heavyAtoms = 0;
  let hydrogens = 0;
  const add = (element: string) => {
    if (element === 'H') {
      hydrogens++;
      return;
    }
    heavy.set(element, (heavy.get(element) ?? 0) + 1);
    heavyAtoms++;
  };
  const text = smiles.split(/\s/, 1)[0];
  // Ring bonds opened and not yet closed, and branches: a SMILES must close both.
  const openRings = new Set<string>();
  let depth = 0;
  const ring = (label: string) => {
    if (openRings.has(label)) openRings.delete(label);
    else openRings.add(label);
  };
  for (let i = 0; i < text.length;) {
    const ch = text[i];
    if (ch === '[') {
      const end = text.indexOf(']', i + 1);
      if (end < 0) return { ok: false, issue: `an unclosed [ at character ${i + 1}` };
      const element = bracketElement(text.slice(i + 1, end));
      if (!element) return { ok: false, issue: `no element in [${text.slice(i + 1, end)}]` };
      add(element);
      i = end + 1;
    } else if (ORGANIC_TWO.has(text.slice(i, i + 2))) {
      add(text.slice(i, i + 2));
      i += 2;
    } else if (ORGANIC_ONE.has(ch)) {
      add(ch);
      i++;
    } else if (AROMATIC_ONE.has(ch)) {
      add(ch.toUpperCase());
      i++;
    } else if (ch === '*') {
      add('*');
      i++;
    } else if (ch === '%') {
      if (!/^%\d\d/.test(text.slice(i))) return { ok: false, issue: `a % not followed by two digits at character ${i + 1}` };
      ring(text.slice(i, i + 3));
      i += 3;
    } else if (ch >= '0' && ch <= '9') {
      ring(ch);
      i++;
    } else if (ch === '(' || ch === ')') {
      depth += ch === '(' ? 1 : -1;
      if (depth < 0) return { ok: false, issue: `a ) without its ( at character ${i + 1}` };
      i++;
    } else if (NOT_ATOMS.has(ch)) {
      i++;
    } else {
      return { ok: false, issue: `${JSON.stringify(ch)} at character ${i + 1} is not SMILES` };
    }
  }
  if (depth > 0) return { ok: false, issue: 'a ( is never closed' };
  if (openRings.size > 0) return { ok: false, issue: `ring bond ${[...openRings][0]} is never closed` };
  return { ok: true, heavy, heavyAtoms, hydrogens };
}
