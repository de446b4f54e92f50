// The job combiner on every fixture job: expected outcome per job (from the format doc and the `variant`
// column of shared/tools/fixtures.csv), values equal to xtb's native files, and the damage cases.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IngestCalculation } from '../../shared/contract/ingest.ts';
import {
  geometrySha256, newWalkCounts, parseJobFiles, parseXtbRun, readJobFiles, walkJobs, type JobFiles, type JobOutcome, type ParsedJob,
} from '../../shared/xtb/index.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';


interface Expected {
  path: string;
  variant: string;
  outcome: JobOutcome;
  /** A warning (or, for failures/skips, the error) that must be reported. */
  says?: RegExp;
}

// `variant` is the fixtures.csv column. qf-20250302-00015 is a plain v2 job whose GFN0 run really
// crashed in xtb 6.5.1 (Fortran allocation error, no xtb message): it is a failure, not a completion.
const EXPECTED: Expected[] = [
  { path: '2025-03/qf-20250301-00001', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00002', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00003', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00004', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00005', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00006', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00007', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00008', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00009', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250301-00010', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250302-00011', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250302-00012', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250302-00013', variant: 'v2', outcome: 'completed', says: /xtb warning: gfnff_setup/ },
  { path: '2025-03/qf-20250302-00014', variant: 'v2', outcome: 'completed' },
  { path: '2025-03/qf-20250302-00015', variant: 'v2', outcome: 'failed_calculation', says: /^abnormal termination of xtb \(In file .*Cannot allocate memory\)$/ },
  { path: '2025-03/qf-20250302-00016', variant: 'rerun-of:2025-03/qf-20250301-00003', outcome: 'completed' },
  { path: '2025-04/qf-20250401-00017', variant: 'no-results', outcome: 'completed', says: /results\.json is missing/ },
  { path: '2025-04/qf-20250401-00018', variant: 'failed', outcome: 'failed_calculation', says: /^scf: Self consistent charge iterator did not converge$/ },
  { path: '2025-04/qf-20250401-00019', variant: 'running', outcome: 'skipped_running', says: /no termination line/ },
  { path: '2025-04/qf-20250401-00020', variant: 'truncated-results', outcome: 'completed', says: /results\.json is truncated/ },
  { path: '2025-04/qf-20250401-00021', variant: 'nan', outcome: 'completed', says: /results\.json: energy_hartree is NaN/ },
  { path: '2025-04/qf-20250401-00022', variant: 'bad-smiles', outcome: 'completed' },
  { path: '2025-04/qf-20250401-00023', variant: 'mismatch', outcome: 'completed', says: /results\.json has 3 atoms, input\.xyz has 4/ },
  { path: 'legacy/job_0001', variant: 'v1', outcome: 'completed' },
  { path: 'legacy/job_0002', variant: 'v1', outcome: 'completed' },
];
/** Directories that are not jobs (no metadata.json): `2025-04/scratch` is fixtures.csv's `not-a-job`. */
const NOT_JOBS = ['2025-03', '2025-04', '2025-04/scratch', 'legacy'];

const files: Record<string, JobFiles> = {};
const parsed: Record<string, ParsedJob> = {};

// Independent, minimal readers of xtb's native files, so the comparison does not use the code under test.
const lastTotalEnergy = (text: string) => Number([...text.matchAll(/\| TOTAL ENERGY\s+(\S+) Eh/g)].pop()![1]);
const chargesOf = (text: string) => text.trim().split('\n').map(Number);
const gradientOf = (text: string) => {
  const rows = text.split('\n').filter((l) => /^\s*-?\d/.test(l)).map((l) => l.trim().split(/\s+/));
  return rows.filter((r) => r.length === 3).map((r) => r.map((x) => Number(x.replace('D', 'E'))));
};
const xyzOf = (text: string) => text.trim().split('\n').slice(2).map((l) => {
  const [element, x, y, z] = l.trim().split(/\s+/);
  return { element, xyz: [Number(x), Number(y), Number(z)] };
});
const within = (a: readonly number[], b: readonly number[], tol: number) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);

beforeAll(async () => {
  for (const e of EXPECTED) {
    files[e.path] = readJobFiles(path.join(FIXTURES, e.path));
    parsed[e.path] = parseJobFiles(e.path, files[e.path]);
  }
});

describe('every fixture job', () => {
  it('the walk finds exactly the listed jobs and skips the listed directories', async () => {
    const counts = newWalkCounts();
    const jobs: string[] = [];
    const skipped: string[] = [];
    for await (const ev of walkJobs(FIXTURES, counts)) (ev.kind === 'job' ? jobs : skipped).push(ev.path);
    expect(jobs.sort()).toEqual(EXPECTED.map((e) => e.path).sort());
    expect(skipped.sort()).toEqual(NOT_JOBS);
    expect(counts).toEqual({
      jobs: EXPECTED.length, skippedDirs: NOT_JOBS.length, containerDirs: 3, symlinksIgnored: 0, errors: 0,
      containerExamples: expect.arrayContaining(['2025-03', '2025-04', 'legacy']), emptyExamples: ['2025-04/scratch'],
    });
  });

  it.each(EXPECTED)('$path ($variant) → $outcome', ({ path: p, outcome, says }) => {
    const job = parsed[p];
    expect(job.outcome, `${job.error ?? ''} ${job.warnings.join('; ')}`).toBe(outcome);
    expect(job.path).toBe(p);
    expect(job.job_id).toBe(p.split('/').pop());
    if (outcome === 'completed') {
      expect(job.calculation?.status).toBe('completed');
      expect(job.error).toBeUndefined();
    }
    if (outcome === 'failed_calculation') expect(job.calculation?.status).toBe('failed');
    if (outcome === 'skipped_running') expect(job.calculation).toBeUndefined();
    if (job.calculation) {
      expect(IngestCalculation.safeParse(job.calculation).success).toBe(true);
      expect(job.calculation.source).toBe(`upload:${p}`);
    }
    const said = outcome === 'failed_calculation' ? job.calculation?.error_message : outcome === 'completed' ? job.warnings.join('\n') : job.error;
    if (says) expect(said).toMatch(says);
    // Jobs without damage produce no warnings at all.
    if (outcome === 'completed' && !says) expect(job.warnings).toEqual([]);
  });

  it.each(EXPECTED.filter((e) => e.outcome === 'completed'))('$path: energies, charges, gradients, geometries equal xtb\'s files', ({ path: p }) => {
    const f = files[p];
    const c = parsed[p].calculation!;
    const r = c.results!;
    expect(Math.abs(r.total_energy_eh - lastTotalEnergy(f['xtb.out']!))).toBeLessThanOrEqual(1e-8);
    if (f['xtbout.json']) expect(Math.abs(r.total_energy_eh - JSON.parse(f['xtbout.json'])['total energy'])).toBeLessThanOrEqual(1e-8);
    const chargeFile = f.charges ?? f.gfnff_charges!;
    expect(within(c.charges!, chargesOf(chargeFile), 1e-8)).toBe(true);
    if (f.gradient) {
      const g = gradientOf(f.gradient);
      expect(c.gradient).toHaveLength(g.length);
      c.gradient!.forEach((row, i) => expect(within(row, g[i], 1e-8)).toBe(true));
    } else {
      expect(c.gradient ?? null).toBeNull();
    }
    if (c.task === 'grad') {
      // The norm xtb printed, which is sqrt(Σ g²) over the gradient file.
      const printed = Number([...f['xtb.out']!.matchAll(/\| GRADIENT NORM\s+(\S+) Eh/g)].pop()![1]);
      expect(r.gradient_norm_eh_bohr).toBe(printed);
      expect(Math.abs(printed - Math.hypot(...gradientOf(f.gradient!).flat()))).toBeLessThan(1e-10);
    }
    if (c.task === 'sp') expect(r.gradient_norm_eh_bohr ?? null).toBeNull();
    const input = xyzOf(f['input.xyz']!);
    expect(c.geometry.map((a) => a.element)).toEqual(input.map((a) => a.element));
    c.geometry.forEach((a, i) => expect(within(a.xyz, input[i].xyz, 1e-8)).toBe(true));
    if (c.task === 'opt') {
      const opt = xyzOf(f['xtbopt.xyz']!);
      c.final_geometry!.forEach((a, i) => expect(within(a.xyz, opt[i].xyz, 1e-8)).toBe(true));
      expect(r.gradient_norm_eh_bohr).toBe(Number(f['xtbopt.xyz']!.split('\n')[1].trim().split(/\s+/)[3]));
    } else {
      expect(c.final_geometry ?? null).toBeNull();
    }
    expect(r.converged).toBe(true);
    expect(r.xtb_version).toBe('6.5.1');
    expect(r.wall_time_s).toBeGreaterThan(0);
  });

  it.each(EXPECTED.filter((e) => e.outcome !== 'skipped_running'))('$path: identity fields come from metadata.json', ({ path: p }) => {
    const c = parsed[p].calculation!;
    const meta = JSON.parse(files[p]['metadata.json']!);
    expect(c.molecule).toEqual({ smiles: meta.smiles, name: meta.name });
    if (meta.schema === 2) {
      expect([c.method, c.task, c.charge, c.multiplicity, c.solvent ?? null]).toEqual([meta.method, meta.task, meta.charge, meta.multiplicity, meta.solvent]);
      expect(c.tags).toEqual(meta.tags);
      expect(c.metadata).toMatchObject({ job_id: meta.job_id, metadata_schema: 2, created_at: meta.created_at });
    } else {
      expect(c.metadata).toMatchObject({ job_id: p.split('/').pop(), metadata_schema: 1, submitted: meta.submitted });
      expect(c.tags).toEqual([]);
    }
    expect(String(c.metadata!.program_call)).toMatch(/^xtb input\.xyz /);
  });

  it('agrees with results.json wherever results.json is sound', () => {
    for (const e of EXPECTED.filter((x) => x.outcome === 'completed' && !x.says && x.variant !== 'v1')) {
      const res = JSON.parse(files[e.path]['results.json']!);
      const c = parsed[e.path].calculation!;
      expect(Math.abs(c.results!.total_energy_eh - res.energy_hartree)).toBeLessThanOrEqual(1e-8);
      if (res.gap_ev === null) expect(c.results!.homo_lumo_gap_ev ?? null).toBeNull();
      else expect(Math.abs(c.results!.homo_lumo_gap_ev! - res.gap_ev)).toBeLessThanOrEqual(1e-8);
      // The app's writer only read GFN2's `molecular dipole:` block, so GFN1 results.json has a null dipole.
      if (res.dipole_debye !== null) expect(c.results!.dipole_debye).toBe(res.dipole_debye);
      res.atoms.forEach((a: { charge: number; gradient?: number[] }, i: number) => {
        expect(Math.abs(c.charges![i] - a.charge)).toBeLessThanOrEqual(1e-8);
        if (a.gradient) expect(within(c.gradient![i], a.gradient, 1e-8)).toBe(true);
      });
    }
  });
});

describe('specific jobs', () => {
  it('GFN-FF has no gap and no dipole', () => {
    const r = parsed['2025-03/qf-20250302-00013'].calculation!.results!;
    expect([r.homo_lumo_gap_ev, r.dipole_debye, r.dipole_au]).toEqual([null, null, null]);
  });

  it('dipole: xtbout.json precision for sp, the printed final-geometry block for opt, GFN1\'s electron-density line', () => {
    expect(parsed['2025-03/qf-20250301-00010'].calculation!.results).toMatchObject({ dipole_au: [0.00002142, 0.0000282, 0.00000358], dipole_debye: 0 });
    expect(parsed['2025-03/qf-20250301-00001'].calculation!.results).toMatchObject({ dipole_au: [0.51950195, -0.28047988, 0.6790371], dipole_debye: 2.287 });
    expect(parsed['2025-03/qf-20250301-00004'].calculation!.results).toMatchObject({ dipole_au: [-0.555, -0.552, -0.042], dipole_debye: 1.994 });
    expect(parsed['legacy/job_0002'].calculation!.results).toMatchObject({ dipole_au: [-0.86, -1.924, 0.341], dipole_debye: 5.425 });
  });

  it('an exact rerun has the same geometry hash as its original', async () => {
    const h = async (p: string) => geometrySha256(parsed[p].calculation!.geometry);
    expect(await h('2025-03/qf-20250302-00016')).toBe(await h('2025-03/qf-20250301-00003'));
    expect(await h('2025-03/qf-20250301-00004')).not.toBe(await h('2025-03/qf-20250301-00003'));
  });

  it('the unparsable SMILES is passed through for the server to judge', () => {
    expect(parsed['2025-04/qf-20250401-00022'].calculation!.molecule.smiles).toBe('C1CC');
  });

  it('legacy jobs: method, task, solvent and multiplicity from params', () => {
    expect(parsed['legacy/job_0002'].calculation).toMatchObject({ method: 'GFN2-xTB', task: 'grad', solvent: 'water', multiplicity: 1, charge: 0 });
    expect(parsed['legacy/job_0001'].calculation).toMatchObject({ task: 'sp', solvent: null, metadata: { created_at: '2024-11-20T14:00:00Z' } });
  });

  it('BOM and CRLF in every file change nothing (but the input file kept as provenance, which is verbatim)', () => {
    for (const e of EXPECTED) {
      const dos = Object.fromEntries(Object.entries(files[e.path]).map(([k, v]) => [k, '\uFEFF' + v!.replace(/\n/g, '\r\n')])) as JobFiles;
      const job = parseJobFiles(e.path, dos);
      if (job.calculation?.provenance) {
        expect(job.calculation.provenance.input_xyz).toBe(dos['input.xyz']);
        job.calculation.provenance.input_xyz = files[e.path]['input.xyz'];
      }
      expect(job).toEqual(parsed[e.path]);
    }
  });
});

describe('damage that is not in the sample', () => {
  const job = (p: string, change: (f: JobFiles) => JobFiles) => parseJobFiles(p, change({ ...files[p] }));

  it('opt at its cycle limit: completed with converged = false and a warning', () => {
    const j = job('2025-03/qf-20250301-00004', (f) => ({ ...f, 'xtb.out': f['xtb.out']!.replace('*** GEOMETRY OPTIMIZATION CONVERGED AFTER 6 ITERATIONS ***', '*** FAILED TO CONVERGE GEOMETRY OPTIMIZATION IN 6 ITERATIONS ***') }));
    expect(j.outcome).toBe('completed');
    expect(j.calculation!.results!.converged).toBe(false);
    expect(j.warnings.join()).toMatch(/did not converge/);
  });

  it('charges whose count disagrees with the geometry: invalid', () => {
    const j = job('2025-03/qf-20250301-00003', (f) => ({ ...f, charges: f.charges!.split('\n').slice(1).join('\n') }));
    expect(j).toMatchObject({ outcome: 'invalid', error: 'charges has 8 values for 9 atoms' });
  });

  it('gradient whose elements disagree with the geometry: invalid for a grad job', () => {
    const j = job('2025-03/qf-20250301-00002', (f) => ({ ...f, gradient: f.gradient!.replace(/ H \n/, ' O \n') }));
    expect(j).toMatchObject({ outcome: 'invalid', error: expect.stringMatching(/gradient atom 2 is O, input\.xyz has H/) });
  });

  it('xtbopt.xyz with other atoms than input.xyz: invalid', () => {
    const j = job('2025-03/qf-20250301-00004', (f) => ({ ...f, 'xtbopt.xyz': f['xtbopt.xyz']!.replace(/\nO /, '\nN ') }));
    expect(j).toMatchObject({ outcome: 'invalid', error: 'xtbopt.xyz atom 3 is N, input.xyz has O' });
  });

  it('unreadable input.xyz or metadata.json: invalid with the reason', () => {
    expect(job('2025-03/qf-20250301-00001', (f) => ({ ...f, 'input.xyz': '3\n\nO 1 2\n' }))).toMatchObject({ outcome: 'invalid', error: expect.stringMatching(/^input\.xyz: /) });
    expect(job('2025-03/qf-20250301-00001', (f) => ({ ...f, 'metadata.json': '{"schema": 2' }))).toMatchObject({ outcome: 'invalid', error: expect.stringMatching(/metadata\.json is truncated/) });
  });

  it('metadata that describes another run than xtb did: invalid', () => {
    const j = job('2025-03/qf-20250301-00006', (f) => ({ ...f, 'metadata.json': f['metadata.json']!.replace('"charge": -1', '"charge": 0') }));
    expect(j).toMatchObject({ outcome: 'invalid', error: 'xtb.out shows a different run: charge -1 (expected 0)' });
  });

  it('results.json energy that disagrees with xtb beyond 1e-6 Eh: stored from xtb, with a warning', () => {
    const j = job('2025-03/qf-20250301-00001', (f) => ({ ...f, 'results.json': f['results.json']!.replace('-5.07020818', '-5.07') }));
    expect(j.outcome).toBe('completed');
    expect(j.calculation!.results!.total_energy_eh).toBe(-5.070208182764);
    expect(j.warnings.join()).toMatch(/energy -5\.07 Eh differs/);
  });

  it('results.json says completed but the log never ended: invalid', () => {
    const j = job('2025-04/qf-20250401-00019', (f) => ({ ...f, 'results.json': files['2025-03/qf-20250301-00001']['results.json'] }));
    expect(j).toMatchObject({ outcome: 'invalid', error: expect.stringMatching(/no termination line/) });
  });

  it('killed xtb (no end marker) that the app recorded as failed: failed with the app\'s reason', () => {
    const j = job('2025-04/qf-20250401-00019', (f) => ({ ...f, 'results.json': '{"schema": 2, "status": "failed", "error": null, "exit_code": 124}' }));
    expect(j).toMatchObject({ outcome: 'failed_calculation', calculation: { status: 'failed', error_message: 'xtb exited with code 124' } });
  });

  it('not started yet (no xtb.out, no results.json): skipped as running', () => {
    const j = job('2025-04/qf-20250401-00019', ({ 'xtb.out': _, ...f }) => f);
    expect(j).toMatchObject({ outcome: 'skipped_running', error: 'xtb has not started (no xtb.out)' });
  });

  it('metadata formula that disagrees with input.xyz: warning', () => {
    const j = job('2025-03/qf-20250301-00001', (f) => ({ ...f, 'metadata.json': f['metadata.json']!.replace('"H2O"', '"H2O2"') }));
    expect(j.warnings).toContain("metadata.json formula H2O2 differs from input.xyz's H2O");
  });
});

describe('parseXtbRun (a runner\'s fresh directory, no metadata.json)', () => {
  it('gives the same calculation as the job parser, minus what metadata.json adds', () => {
    const p = '2025-03/qf-20250301-00005';
    const { 'metadata.json': _m, 'results.json': _r, ...runFiles } = files[p];
    const run = parseXtbRun(runFiles, { molecule: { smiles: 'CC(=O)O', name: 'acetic acid' }, method: 'GFN2-xTB', task: 'grad', tags: ['acids'] });
    expect(run.outcome).toBe('completed');
    expect(run.warnings).toEqual([]);
    const { source: _s, metadata: jobMeta, ...jobRest } = parsed[p].calculation!;
    const { source: _s2, metadata: runMeta, ...runRest } = run.calculation!;
    expect(runRest).toEqual(jobRest);
    expect(runMeta).toEqual({ program_call: jobMeta!.program_call });
  });

  it('reports a failed run and a run still going', () => {
    const failed = files['2025-04/qf-20250401-00018'];
    expect(parseXtbRun({ 'input.xyz': failed['input.xyz'], 'xtb.out': failed['xtb.out'] }, { molecule: { smiles: 'O=O' }, method: 'GFN2-xTB', task: 'sp', multiplicity: 3 }))
      .toMatchObject({ outcome: 'failed_calculation', calculation: { status: 'failed', error_message: 'scf: Self consistent charge iterator did not converge' } });
    const running = files['2025-04/qf-20250401-00019'];
    expect(parseXtbRun({ 'input.xyz': running['input.xyz'], 'xtb.out': running['xtb.out'] }, { molecule: { smiles: 'C=O' }, method: 'GFN2-xTB', task: 'sp' }).outcome).toBe('running');
  });
});
