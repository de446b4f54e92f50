// A geometry's identity: a canonical text (element and coordinates rounded to 1e-6 Å) and its
// SHA-256, so CRLF, spacing or trailing digits in a file never make a "new" calculation.
import type { GeometryAtom } from '../contract/common.ts';

// -0.0000001 rounds to "-0.000000"; identity must not depend on the sign of zero.
const coord = (v: number): string => {
  const s = v.toFixed(6);
  return s === '-0.000000' ? '0.000000' : s;
};

export function canonicalGeometryText(geometry: readonly GeometryAtom[]): string {
  let out = `${geometry.length}\n`;
  for (const { element, xyz } of geometry) out += `${element} ${coord(xyz[0])} ${coord(xyz[1])} ${coord(xyz[2])}\n`;
  return out;
}

export async function geometrySha256(geometry: readonly GeometryAtom[]): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalGeometryText(geometry));
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
