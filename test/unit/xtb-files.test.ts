// charges / gfnff_charges, Turbomole gradient and xtbout.json, on the real fixture files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCharges, parseGradient, parseXtbOutJson } from '../../shared/xtb/index.ts';
import { bohrToAngstrom } from '../../shared/units.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

const read = (p: string) => readFileSync(path.join(FIXTURES, p), 'utf8');
const dosify = (t: string) => '\uFEFF' + t.replace(/\n/g, '\r\n');

describe('charges', () => {
  it('reads one charge per line', () => {
    expect(parseCharges(read('2025-03/qf-20250301-00001/charges'))).toEqual({ ok: true, value: [-0.56095462, 0.28047741, 0.28047721] });
  });

  it('reads gfnff_charges (GFN-FF) the same way', () => {
    const r = parseCharges(read('2025-03/qf-20250302-00013/gfnff_charges'), 'gfnff_charges');
    expect(r.ok && r.value).toHaveLength(11);
    expect(r.ok && r.value[3]).toBe(-0.28219159);
  });

  it('survives BOM and CRLF, refuses junk and empty files', () => {
    const text = read('2025-03/qf-20250301-00005/charges');
    expect(parseCharges(dosify(text))).toEqual(parseCharges(text));
    expect(parseCharges('0.1\nabc\n').ok).toBe(false);
    expect(parseCharges('0.1 0.2\n').ok).toBe(false);
    expect(parseCharges('\n').ok).toBe(false);
  });
});

describe('gradient', () => {
  it('reads Bohr coordinates, elements and the Eh/Bohr gradient (E exponents)', () => {
    const r = parseGradient(read('2025-03/qf-20250301-00002/gradient'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.elements).toEqual(['C', 'H', 'H', 'H', 'H']);
    expect(r.value.cycle).toBe(1);
    expect(r.value.energyEh).toBe(-4.17496221985);
    expect(r.value.gradientNormEhBohr).toBe(0.01337);
    expect(r.value.gradient[0]).toEqual([-2.1477806251086e-6, -3.3905755794238e-8, -2.2709564446229e-8]);
    expect(r.value.gradient[4]).toEqual([-2.2276458408305e-3, -5.7505417870825e-3, -2.5806976165706e-3]);
    // The coordinates are input.xyz in Bohr.
    expect(bohrToAngstrom(r.value.coordsBohr[1][0])).toBeCloseTo(2.02882, 9);
  });

  it('reads D exponents, lower-case elements and numbers glued by fixed-width output', () => {
    const text = read('2025-03/qf-20250301-00005/gradient');
    const plain = parseGradient(text);
    const fortran = parseGradient(text.replace(/E([+-]\d\d)/g, 'D$1').replace(/ ([A-Z][a-z]?) *$/gm, (m) => m.toLowerCase()));
    expect(fortran).toEqual(plain);
    const glued = parseGradient('$grad\n cycle = 1 SCF energy = -1.0 |dE/dxyz| = 0.1\n 0.0 0.0 0.0 h\n -0.1D-01-0.2D-01 0.3D-01\n$end\n');
    expect(glued.ok && glued.value.gradient).toEqual([[-0.01, -0.02, 0.03]]);
  });

  it('keeps the last cycle when xtb appended several', () => {
    const text = read('2025-03/qf-20250301-00002/gradient');
    const cycle1 = text.replace('$end', '').replace('-2.1477806251086E-06', '-9.0000000000000E-01');
    const two = cycle1 + text.split('\n').slice(1).join('\n').replace('cycle =      1', 'cycle =      2');
    const r = parseGradient(two);
    expect(r.ok && r.value.cycle).toBe(2);
    expect(r.ok && r.value.gradient[0][0]).toBe(-2.1477806251086e-6);
  });

  it('refuses truncated or inconsistent files', () => {
    const text = read('2025-03/qf-20250301-00002/gradient');
    expect(parseGradient(text.replace('$end', '')).ok).toBe(false);
    const lines = text.split('\n');
    expect(parseGradient([...lines.slice(0, 8), ...lines.slice(9)].join('\n')).ok).toBe(false);
    expect(parseGradient('nothing').ok).toBe(false);
  });
});

describe('xtbout.json', () => {
  it('reads energy, gap, dipole, charges, call and version', () => {
    const r = parseXtbOutJson(read('2025-03/qf-20250301-00001/xtbout.json'));
    expect(r).toEqual({
      ok: true,
      value: {
        totalEnergyEh: -5.07020818, homoLumoGapEv: 14.15989685, dipoleAu: [0.51950195, -0.28047988, 0.6790371],
        partialCharges: [-0.56095462, 0.28047741, 0.28047721], programCall: 'xtb input.xyz --gfn 2 --json',
        method: 'GFN2-xTB', xtbVersion: '6.5.1', nonFinite: [],
      },
    });
  });

  it('reads GFN1 output', () => {
    const r = parseXtbOutJson(read('2025-03/qf-20250301-00010/xtbout.json'));
    expect(r.ok && r.value.method).toBe('GFN1-xTB');
    expect(r.ok && r.value.partialCharges).toHaveLength(12);
  });

  it('reports NaN fields and truncated files', () => {
    const text = read('2025-03/qf-20250301-00001/xtbout.json');
    const nan = parseXtbOutJson(text.replace('-5.07020818', 'NaN'));
    expect(nan.ok && nan.value.totalEnergyEh).toBeNull();
    expect(nan.ok && nan.value.nonFinite).toEqual(['total energy']);
    const cut = parseXtbOutJson(text.slice(0, 200));
    expect(cut.ok).toBe(false);
    expect(!cut.ok && cut.error).toMatch(/truncated/);
  });
});
