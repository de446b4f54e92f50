// Text clean-up, XYZ parsing and the canonical geometry hash, on the real fixture files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalGeometryText, formulaOf, geometrySha256, normalizeText, parseJsonLenient, parseReal, parseXtbOptComment, parseXyz, textLines,
} from '../../shared/xtb/index.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

const read = (p: string) => readFileSync(path.join(FIXTURES, p), 'utf8');
const dosify = (t: string) => '\uFEFF' + t.replace(/\n/g, '\r\n');

describe('text', () => {
  it('strips a BOM and turns CRLF and lone CR into LF', () => {
    expect(normalizeText('\uFEFFa\r\nb\rc\n')).toBe('a\nb\nc\n');
    expect(textLines('\uFEFFa\r\nb\r\n')).toEqual(['a', 'b']);
  });

  it('reads Fortran reals with D or E exponents and refuses non-numbers', () => {
    expect(parseReal('-2.1477806251086D-06')).toBe(-2.1477806251086e-6);
    expect(parseReal('1.5E+01')).toBe(15);
    expect(parseReal('NaN')).toBeNull();
    expect(parseReal('1.2.3')).toBeNull();
  });

  it('parses JSON holding NaN and names the fields', () => {
    const r = parseJsonLenient('{"a": NaN, "b": [1, -Infinity], "s": "NaN stays a string"}');
    expect(r.ok && r.value).toEqual({ value: { a: null, b: [1, null], s: 'NaN stays a string' }, nonFinite: ['a', 'b[1]'] });
    const t = parseJsonLenient('{"a": [1, 2');
    expect(t.ok).toBe(false);
    expect(!t.ok && t.error).toMatch(/truncated/);
  });
});

describe('xyz', () => {
  it('reads input.xyz (elements and Å coordinates)', () => {
    const r = parseXyz(read('2025-03/qf-20250301-00001/input.xyz'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.atoms).toEqual([
      { element: 'O', xyz: [0.90928, 0.0565, 0.0233] },
      { element: 'H', xyz: [1.87716, 0.03877, 0.06621] },
      { element: 'H', xyz: [0.63043, -0.29778, 0.88102] },
    ]);
    expect(r.value.comment).toBe('');
  });

  it('reads xtbopt.xyz and its energy/gnorm/version comment', () => {
    const r = parseXyz(read('2025-03/qf-20250301-00004/xtbopt.xyz'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.atoms).toHaveLength(9);
    expect(r.value.atoms[0]).toEqual({ element: 'C', xyz: [0.90582949887232, 0.02355939122452, 0.04237577245683] });
    expect(parseXtbOptComment(r.value.comment)).toEqual({ energyEh: -11.39433854876, gradientNormEhBohr: 0.000524139834, xtbVersion: '6.5.1' });
  });

  it('refuses files whose atom count or atom lines are wrong', () => {
    expect(parseXyz('3\n\nO 0 0 0\nH 1 0 0\n').ok).toBe(false);
    expect(parseXyz('x\n\nO 0 0 0\n').ok).toBe(false);
    expect(parseXyz('1\n\nO 0 zero 0\n').ok).toBe(false);
    expect(parseXyz('').ok).toBe(false);
    expect(parseXyz('1\n\nXx 0 0 0\n').ok).toBe(false);
    expect(parseXyz('1\n\ncl 0 0 0\n')).toMatchObject({ ok: true, value: { atoms: [{ element: 'Cl' }] } });
  });

  it('gives the same geometry for BOM + CRLF files', () => {
    const text = read('2025-03/qf-20250302-00014/input.xyz');
    expect(parseXyz(dosify(text))).toEqual(parseXyz(text));
  });

  it('writes the Hill formula', () => {
    expect(formulaOf(['O', 'H', 'H'])).toBe('H2O');
    expect(formulaOf(['C', 'C', 'O', 'H', 'H', 'H', 'H', 'H', 'H'])).toBe('C2H6O');
    expect(formulaOf(['N', 'C', 'Cl'])).toBe('CClN');
    expect(formulaOf(['O', 'O'])).toBe('O2');
  });
});

describe('canonical geometry hash', () => {
  const geometry = (p: string) => {
    const r = parseXyz(read(p));
    if (!r.ok) throw new Error(r.error);
    return r.value.atoms;
  };

  it('rounds to 1e-6 Å: sub-micro-Ångström noise and the sign of zero do not matter', async () => {
    const a = [{ element: 'O', xyz: [0.90928, 0, 1] as [number, number, number] }];
    const b = [{ element: 'O', xyz: [0.9092801, -0.0000001, 1.0000002] as [number, number, number] }];
    expect(canonicalGeometryText(b)).toBe(canonicalGeometryText(a));
    expect(canonicalGeometryText(a)).toContain('O 0.909280 0.000000 1.000000\n');
    expect(await geometrySha256(b)).toBe(await geometrySha256(a));
    expect(await geometrySha256([{ element: 'O', xyz: [0.909281, 0, 1] }])).not.toBe(await geometrySha256(a));
  });

  it('ignores CRLF, BOM, padding and trailing zeros', async () => {
    const text = read('2025-03/qf-20250301-00003/input.xyz');
    const reformatted = text.split('\n').map((l, i) => (i < 2 ? l : l.trim().split(/\s+/).map((t, k) => (k ? `${t}000` : t)).join('\t'))).join('\n');
    const a = parseXyz(text);
    const b = parseXyz(dosify(reformatted));
    if (!a.ok || !b.ok) throw new Error('unreadable');
    expect(await geometrySha256(b.value.atoms)).toBe(await geometrySha256(a.value.atoms));
  });

  it('is equal for an exact rerun and different for another molecule', async () => {
    const first = await geometrySha256(geometry('2025-03/qf-20250301-00003/input.xyz'));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await geometrySha256(geometry('2025-03/qf-20250302-00016/input.xyz'))).toBe(first);
    expect(await geometrySha256(geometry('2025-03/qf-20250301-00004/input.xyz'))).not.toBe(first);
  });
});
