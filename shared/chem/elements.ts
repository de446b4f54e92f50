// Element symbols to atomic numbers, H to Og, for atomic_properties.atomic_number and formula checks.
const SYMBOLS = (
  'H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr ' +
  'Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb ' +
  'Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr ' +
  'Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og'
).split(' ');

const NUMBER = new Map(SYMBOLS.map((s, i) => [s, i + 1]));

/** The atomic number of a symbol (case as written by xtb: `C`, `Cl`), or undefined. */
export const atomicNumber = (symbol: string): number | undefined => NUMBER.get(symbol);

/** The symbol of an atomic number (1 to 118), or undefined. */
export const elementSymbol = (z: number): string | undefined => SYMBOLS[z - 1];

/** xtb writes some symbols in lower case (`cl`); this restores the usual capitalisation. */
export const normaliseSymbol = (symbol: string): string =>
  symbol.length === 0 ? symbol : symbol[0].toUpperCase() + symbol.slice(1).toLowerCase();

/** Counts of each element. */
export function elementCounts(symbols: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of symbols) counts.set(s, (counts.get(s) ?? 0) + 1);
  return counts;
}

/** Counts of each element of a formula such as `C2H6O` (Hill order or not; no charge suffix). */
export function formulaCounts(formula: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [, symbol, n] of formula.matchAll(/([A-Z][a-z]?)(\d*)/g)) counts.set(symbol, (counts.get(symbol) ?? 0) + (n ? Number(n) : 1));
  return counts;
}

/** A formula in Hill order: C first, then H, then the rest alphabetically; without C, all alphabetical. */
export function hillFormula(counts: Map<string, number>): string {
  const symbols = [...counts.keys()].sort();
  const ordered = counts.has('C')
    ? ['C', ...(counts.has('H') ? ['H'] : []), ...symbols.filter((s) => s !== 'C' && s !== 'H')]
    : symbols;
  return ordered.map((s) => {
    const n = counts.get(s)!;
    return n === 1 ? s : `${s}${n}`;
  }).join('');
}
