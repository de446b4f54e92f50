// metadata.json (schema 2 and legacy 1) and results.json (schema 2, legacy 1, truncated, NaN), on the real fixture files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMetadata, parseResultsJson } from '../../shared/xtb/index.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

const read = (p: string) => readFileSync(path.join(FIXTURES, p), 'utf8');
const dosify = (t: string) => '\uFEFF' + t.replace(/\n/g, '\r\n');

describe('metadata.json', () => {
  it('reads schema 2', () => {
    expect(parseMetadata(read('2025-03/qf-20250301-00006/metadata.json'), 'qf-20250301-00006')).toEqual({
      ok: true,
      value: {
        schema: 2, job_id: 'qf-20250301-00006', name: 'acetate', smiles: 'CC(=O)[O-]', formula: 'C2H3O2', charge: -1, multiplicity: 1,
        method: 'GFN2-xTB', task: 'sp', solvent: 'water', created_at: '2025-03-01T09:05:00Z', submitted: null, tags: ['acids', 'ions'],
      },
    });
  });

  it('reads legacy schema 1: gfn → method, uhf → multiplicity, runtype → task, alpb → solvent, job id = directory', () => {
    expect(parseMetadata(read('legacy/job_0002/metadata.json'), 'job_0002')).toEqual({
      ok: true,
      value: {
        schema: 1, job_id: 'job_0002', name: 'formic acid', smiles: 'OC=O', formula: null, charge: 0, multiplicity: 1,
        method: 'GFN2-xTB', task: 'grad', solvent: 'water', created_at: '2024-11-20T14:05:00Z', submitted: '2024-11-20 14:05:00', tags: [],
      },
    });
    const m = parseMetadata(read('legacy/job_0001/metadata.json'), 'job_0001');
    expect(m.ok && [m.value.task, m.value.solvent]).toEqual(['sp', null]);
    const radical = parseMetadata(JSON.stringify({ name: 'x', smiles: '[CH3]', params: { gfn: 0, chrg: 0, uhf: 1, alpb: null, runtype: 'opt' }, submitted: '2024-01-02 03:04:05' }), 'j');
    expect(radical.ok && [radical.value.method, radical.value.multiplicity, radical.value.task]).toEqual(['GFN0-xTB', 2, 'opt']);
  });

  it('reads BOM + CRLF files the same', () => {
    const text = read('2025-03/qf-20250301-00003/metadata.json');
    expect(parseMetadata(dosify(text), 'qf-20250301-00003')).toEqual(parseMetadata(text, 'qf-20250301-00003'));
  });

  it('passes an unparsable SMILES through (the server checks it)', () => {
    const m = parseMetadata(read('2025-04/qf-20250401-00022/metadata.json'), 'qf-20250401-00022');
    expect(m.ok && m.value.smiles).toBe('C1CC');
  });

  it('refuses broken, unknown-schema or incomplete files with a reason', () => {
    const text = read('2025-03/qf-20250301-00001/metadata.json');
    expect(parseMetadata(text.slice(0, 50), 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/truncated/) });
    expect(parseMetadata(text.replace('"schema": 2', '"schema": 3'), 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/unsupported schema 3/) });
    expect(parseMetadata(text.replace('"GFN2-xTB"', '"PM7"'), 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/method/) });
    expect(parseMetadata('{"name": "x", "smiles": "C"}', 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/schema 1.*params/) });
  });
});

describe('results.json', () => {
  it('reads schema 2 (completed, with atoms and gradients)', () => {
    const r = parseResultsJson(read('2025-03/qf-20250301-00002/results.json'));
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({ schema: 2, status: 'completed', energyEh: -4.17496222, converged: true, xtbVersion: '6.5.1' });
    expect(r.value?.atoms?.[0]).toEqual({ element: 'C', charge: -0.1519432, xyz: [0.93662, -0.07397, 0.02263], gradient: [-2.1477806251086e-6, -3.3905755794238e-8, -2.2709564446229e-8] });
  });

  it('reads schema 2 for opt (final geometry, gradient norm) and for failures', () => {
    expect(parseResultsJson(read('2025-03/qf-20250301-00004/results.json')).value).toMatchObject({ gradientNormEhBohr: 0.000524139834 });
    expect(parseResultsJson(read('2025-04/qf-20250401-00018/results.json'))).toEqual({
      problems: [],
      value: expect.objectContaining({ status: 'failed', error: 'scf: Self consistent charge iterator did not converge', exitCode: 1, energyEh: null }),
    });
  });

  it('reads legacy schema 1', () => {
    expect(parseResultsJson(read('legacy/job_0001/results.json'))).toEqual({
      problems: [],
      value: {
        schema: 1, status: 'completed', energyEh: -8.22549845, gapEv: 12.758929, dipoleDebye: 1.987, dipoleAu: null, converged: null,
        wallTimeS: 0.013, xtbVersion: null, programCall: null, atoms: null, gradientNormEhBohr: null, error: null, exitCode: null,
      },
    });
  });

  it('reports a truncated file without throwing', () => {
    expect(parseResultsJson(read('2025-04/qf-20250401-00020/results.json'))).toEqual({
      value: null, problems: ['results.json is truncated (not valid JSON: it ends mid-document)'],
    });
  });

  it('reports NaN by field name and keeps the rest', () => {
    const r = parseResultsJson(read('2025-04/qf-20250401-00021/results.json'));
    expect(r.problems).toEqual(['results.json: energy_hartree is NaN or infinite']);
    expect(r.value).toMatchObject({ status: 'completed', energyEh: null, gapEv: 5.45059054 });
  });

  it('keeps atoms as written, even when they disagree with the geometry (job.ts judges that)', () => {
    expect(parseResultsJson(read('2025-04/qf-20250401-00023/results.json')).value?.atoms).toHaveLength(3);
  });

  it('reads BOM + CRLF files the same', () => {
    const text = read('2025-03/qf-20250302-00013/results.json');
    expect(parseResultsJson(dosify(text))).toEqual(parseResultsJson(text));
  });
});
