// The pure rules behind issue 18: the structure key does not see rotation, translation or atom
// order but does see a changed geometry; xtb_args that contradict a calculation's columns are named
// word by word; the electron-count rule is the one batch creation and ingest share.
import { describe, expect, it } from 'vitest';
import type { Geometry } from '../../shared/contract/common.ts';
import { electronStateIssue } from '../../shared/electron-count.ts';
import { STRUCTURE_KEY_MAX_ATOMS, structureKey } from '../../shared/structure-key.ts';
import { xtbArgsConflicts } from '../../shared/xtb/xtb-args.ts';
import { GEOMETRIES } from '../support/payloads.ts';

const ethanol = GEOMETRIES.CCO as Geometry;

describe('structureKey', () => {
  it('groups distances by element pair in alphabetical order, each group sorted', () => {
    const key = structureKey(GEOMETRIES.O as Geometry)!;
    // H-H once, then H-O twice (equal, water is symmetric here).
    expect(key).toHaveLength(3);
    expect(key[0]).toBeCloseTo(1.5144, 4);
    expect(key[1]).toBeCloseTo(key[2], 12);
  });

  it('is the same after a rotation, a translation and a permutation of the atoms', () => {
    const t = (41 * Math.PI) / 180;
    const moved = ethanol.map(({ element, xyz: [x, y, z] }) => ({
      element, xyz: [Math.cos(t) * x - Math.sin(t) * y + 5, Math.sin(t) * x + Math.cos(t) * y - 2, z + 0.5] as [number, number, number],
    })).reverse();
    const a = structureKey(ethanol)!;
    const b = structureKey(moved)!;
    expect(b).toHaveLength(a.length);
    expect(Math.max(...a.map((d, i) => Math.abs(d - b[i])))).toBeLessThan(1e-12);
  });

  it('changes when one atom moves', () => {
    const bent = ethanol.map((a, i) => (i === 2 ? { ...a, xyz: [a.xyz[0], a.xyz[1] + 0.01, a.xyz[2]] as [number, number, number] } : a));
    const a = structureKey(ethanol)!;
    const b = structureKey(bent)!;
    expect(Math.max(...a.map((d, i) => Math.abs(d - b[i])))).toBeGreaterThan(1e-3);
  });

  it('is not made above the atom limit', () => {
    const big = Array.from({ length: STRUCTURE_KEY_MAX_ATOMS + 1 }, (_, i) => ({ element: 'C', xyz: [i * 1.5, 0, 0] as [number, number, number] }));
    expect(structureKey(big)).toBeNull();
    expect(structureKey(big.slice(0, STRUCTURE_KEY_MAX_ATOMS))).toHaveLength((STRUCTURE_KEY_MAX_ATOMS * (STRUCTURE_KEY_MAX_ATOMS - 1)) / 2);
  });
});

describe('xtbArgsConflicts', () => {
  const water = { method: 'GFN2-xTB', task: 'sp', charge: 0, multiplicity: 1, solvent: null } as const;

  it('accepts a full command line that agrees, and settings alone', () => {
    expect(xtbArgsConflicts(['xtb', 'input.xyz', '--gfn', '2', '--chrg', '0', '--uhf', '0', '--json', '--etemp', '5000'], water)).toEqual([]);
    expect(xtbArgsConflicts(['--acc', '0.1'], { ...water, method: 'GFN1-xTB' })).toEqual([]);
    expect(xtbArgsConflicts(['--alpb', 'Water', '--opt', 'tight'], { ...water, task: 'opt', solvent: 'water' })).toEqual([]);
  });

  it('names each word that contradicts the calculation', () => {
    expect(xtbArgsConflicts(['--gfnff', '--uhf', '1', '--gbsa', 'h2o', '--grad'], water)).toEqual([
      { index: 0, issue: 'says method GFN-FF, but the calculation\'s is GFN2-xTB' },
      { index: 1, issue: 'says multiplicity 2 (--uhf 1), but the calculation\'s is 1' },
      { index: 3, issue: 'says solvent h2o, but the calculation\'s is gas phase (null)' },
      { index: 5, issue: 'says task grad, but the calculation\'s is sp' },
    ]);
  });
});

describe('electronStateIssue', () => {
  const ethanolIdentity = { formula: 'C2H6O', elements: new Map([['C', 2], ['H', 6], ['O', 1]]) };
  it('refuses an even electron count with a doublet and an odd one with a singlet', () => {
    expect(electronStateIssue(ethanolIdentity, 0, 1)).toBeUndefined();
    expect(electronStateIssue(ethanolIdentity, 1, 2)).toBeUndefined();
    expect(electronStateIssue(ethanolIdentity, 1, 1)).toBe('multiplicity 1 is impossible for C2H6O with charge 1 (25 electrons)');
    expect(electronStateIssue(ethanolIdentity, 0, 2)).toMatch(/26 electrons/);
    expect(electronStateIssue(ethanolIdentity, 30, 1)).toMatch(/-4 electrons/);
  });
});
