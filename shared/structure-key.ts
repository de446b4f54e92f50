// The structure key of a geometry, which neither its frame (rotation, translation) nor the order of
// its atoms changes: every interatomic distance, grouped by element pair (pairs in alphabetical
// order: C-C, C-H, C-O, H-H, H-O, …) and sorted within each group. The ingest function computes it
// for each new calculation's input geometry; the database compares keys within
// public.same_structure_tolerance_ang() (0.001 Å per distance) to mark `same_structure_as`
// (supabase/migrations/20261202002010_same_structure.sql).
import type { GeometryAtom } from './contract/common.ts';

/** Above this many atoms no key is made (n(n−1)/2 distances: 4,950 at 100 atoms) and nothing is marked. */
export const STRUCTURE_KEY_MAX_ATOMS = 100;

/** The key of a geometry (Å), or null when it has more than STRUCTURE_KEY_MAX_ATOMS atoms. */
export function structureKey(geometry: readonly GeometryAtom[]): number[] | null {
  const n = geometry.length;
  if (n > STRUCTURE_KEY_MAX_ATOMS) return null;
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const a = geometry[i];
    for (let j = i + 1; j < n; j++) {
      const b = geometry[j];
      const pair = a.element <= b.element ? `${a.element}-${b.element}` : `${b.element}-${a.element}`;
      const d = Math.hypot(a.xyz[0] - b.xyz[0], a.xyz[1] - b.xyz[1], a.xyz[2] - b.xyz[2]);
      let group = groups.get(pair);
      if (!group) groups.set(pair, (group = []));
      group.push(d);
    }
  }
  const key: number[] = [];
  for (const pair of [...groups.keys()].sort()) key.push(...groups.get(pair)!.sort((x, y) => x - y));
  return key;
}
