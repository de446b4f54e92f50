// XYZ geometry files (input.xyz, xtbopt.xyz), plus the geometry identity hash re-exported from shared/chem.
import { atomicNumber, elementCounts, hillFormula, normaliseSymbol } from '../chem/elements.ts';
import type { Geometry, GeometryAtom, Vec3 } from '../contract/common.ts';
import { fail, ok, parseReal, textLines, type Parsed } from './text.ts';

export interface XyzFile {
  atoms: Geometry;
  /** The second line, trimmed; xtbopt.xyz keeps energy and gradient norm here. */
  comment: string;
}

/** Normalises `c`, `CL`, `cl` to `C`, `Cl`; null for anything that is not an element symbol. */
export function normalizeElement(symbol: string): string | null {
  const s = normaliseSymbol(symbol);
  return atomicNumber(s) === undefined ? null : s;
}

/** Reads the first frame of an XYZ text; coordinates stay in Ångström. */
export function parseXyz(text: string): Parsed<XyzFile> {
  const lines = textLines(text);
  if (lines.length === 0 || lines[0].trim() === '') return fail('empty XYZ file');
  const countToken = lines[0].trim().split(/\s+/)[0];
  if (!/^\d+$/.test(countToken)) return fail(`first line is not an atom count: "${lines[0].trim().slice(0, 40)}"`);
  const n = Number(countToken);
  if (n < 1) return fail('atom count is 0');
  if (lines.length < 2 + n) return fail(`declares ${n} atoms but has ${Math.max(0, lines.length - 2)} atom lines`);
  const atoms: GeometryAtom[] = [];
  for (let i = 0; i < n; i++) {
    const parts = lines[2 + i].trim().split(/\s+/);
    const element = normalizeElement(parts[0] ?? '');
    const xyz = parts.slice(1, 4).map(parseReal);
    if (!element || xyz.length !== 3 || xyz.some((v) => v === null)) {
      return fail(`atom line ${i + 1} is not "element x y z": "${lines[2 + i].trim().slice(0, 80)}"`);
    }
    atoms.push({ element, xyz: xyz as Vec3 });
  }
  return ok({ atoms, comment: lines[1].trim() });
}

export interface XtbOptComment {
  energyEh: number;
  gradientNormEhBohr: number | null;
  xtbVersion: string | null;
}

/** Reads xtbopt.xyz's comment ` energy: E gnorm: G xtb: V (build)`. */
export function parseXtbOptComment(comment: string): XtbOptComment | null {
  const m = /energy:\s*(\S+)(?:\s+gnorm:\s*(\S+))?(?:\s+xtb:\s*(\S+))?/.exec(comment);
  if (!m) return null;
  const energyEh = parseReal(m[1]);
  if (energyEh === null) return null;
  return { energyEh, gradientNormEhBohr: m[2] ? parseReal(m[2]) : null, xtbVersion: m[3] ?? null };
}

// The identity hash is defined once, beside the server's other identity code; re-exported so
// parser users need one import.
export { canonicalGeometryText, geometrySha256 } from '../chem/geometry.ts';

/** Hill-order formula of a list of element symbols. */
export const formulaOf = (elements: Iterable<string>): string => hillFormula(elementCounts(elements));
