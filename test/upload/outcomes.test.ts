// Outcome mapping (server answer → job outcome), the request splitter for refused and failed
// batches, and the summary text.
import { describe, expect, it } from 'vitest';
import { QfApiError } from '../../shared/client.ts';
import type { IngestCalculationInput, IngestItemResult } from '../../shared/contract/ingest.ts';
import type { ParsedJob } from '../../shared/xtb/index.ts';
import { fromFailure, fromIngest, fromParse, issueText, type JobReport } from '../../scripts/upload/outcomes.ts';
import { isFatal, makeSender } from '../../scripts/upload/send.ts';
import { formatSummary, Tally } from '../../scripts/upload/summary.ts';
import { newWalkCounts } from '../../shared/xtb/index.ts';

const CALC = '11111111-1111-4111-8111-111111111111';
const MOL = '22222222-2222-4222-8222-222222222222';

function job(path: string, status: 'completed' | 'failed' = 'completed'): ParsedJob {
  const calculation = {
    molecule: { smiles: 'O' }, method: 'GFN2-xTB', task: 'sp', status,
    geometry: [{ element: 'O', xyz: [0, 0, 0] }],
    ...(status === 'failed' ? { error_message: '-3- scf: did not converge' } : { results: { total_energy_eh: -5 } }),
  } as IngestCalculationInput;
  return { path, job_id: path.split('/').pop()!, outcome: status === 'failed' ? 'failed_calculation' : 'completed', calculation, warnings: ['w'] };
}
const answer = (outcome: IngestItemResult['outcome'], extra: Partial<IngestItemResult> = {}): IngestItemResult =>
  ({ index: 0, outcome, calculation_id: outcome === 'rejected' ? null : CALC, molecule_id: outcome === 'rejected' ? null : MOL, ...extra });

describe('outcomes', () => {
  it.each([
    ['completed', 'created', 'created', null],
    ['completed', 'updated', 'created', null],
    ['completed', 'duplicate', 'duplicate', null],
    ['failed', 'created', 'failed_calculation', '-3- scf: did not converge'],
    ['failed', 'updated', 'failed_calculation', '-3- scf: did not converge'],
    // A re-run's failed job is still a failed calculation, not a `duplicate`; already_stored says it was there.
    ['failed', 'duplicate', 'failed_calculation', '-3- scf: did not converge'],
  ] as const)('a %s calculation answered %s is %s', (status, server, outcome, error) => {
    expect(fromIngest(job('a/j1', status), answer(server))).toEqual({
      path: 'a/j1', job_id: 'j1', outcome, calculation_id: CALC, molecule_id: MOL, warnings: ['w'], error, already_stored: server === 'duplicate',
    });
  });

  it('a rejected item is invalid with the server\'s reasons, without the request index', () => {
    const r = fromIngest(job('a/j1'), answer('rejected', {
      errors: [
        { path: 'calculations[17].molecule.smiles', issue: 'RDKit cannot parse the SMILES "C1CC"' },
        { path: 'calculations[17]', issue: 'something else' },
      ],
    }));
    expect(r).toMatchObject({ outcome: 'invalid', calculation_id: null, molecule_id: null, error: 'molecule.smiles: RDKit cannot parse the SMILES "C1CC"; something else' });
    expect(issueText(undefined)).toBe('rejected by the server without a reason');
  });

  it('unsent jobs keep the parser\'s outcome and reason; failures are `error`', () => {
    expect(fromParse({ path: 'p', job_id: 'p', outcome: 'skipped_running', warnings: [], error: 'xtb has not started (no xtb.out)' }))
      .toEqual({ path: 'p', job_id: 'p', outcome: 'skipped_running', calculation_id: null, molecule_id: null, warnings: [], error: 'xtb has not started (no xtb.out)', already_stored: false });
    expect(fromFailure(job('p'), 'boom')).toMatchObject({ outcome: 'error', error: 'boom', calculation_id: null });
  });
});

describe('makeSender', () => {
  it('splits a refused request until the refused item is alone, and answers it rejected', async () => {
    const calls: number[] = [];
    const client = {
      ingest: async (items: readonly unknown[]) => {
        calls.push(items.length);
        if (items.some((c) => (c as IngestCalculationInput).molecule.smiles === 'BAD')) {
          throw new QfApiError(422, { error: { code: 'invalid_payload', message: 'refused by the database (x)' } }, 'refused by the database (x)');
        }
        return items.map((_, index) => answer('created', { index }));
      },
    };
    const jobs = Array.from({ length: 16 }, (_, i) => job(`j${String(i).padStart(2, '0')}`));
    jobs[11].calculation = { ...jobs[11].calculation!, molecule: { smiles: 'BAD' } };
    const results = await makeSender(client as never, undefined)(jobs);
    expect(results.map((r) => r.outcome)).toEqual(jobs.map((_, i) => (i === 11 ? 'rejected' : 'created')));
    expect(results.map((r) => r.index)).toEqual(jobs.map((_, i) => i));
    expect(results[11].errors?.[0].issue).toBe('the server refused it (HTTP 422): refused by the database (x)');
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * Math.log2(16));
  });

  it('splits a request the server fails on (5xx) too: the neighbours are stored, the job alone still failing is reported not stored', async () => {
    const client = {
      ingest: async (items: readonly unknown[]) => {
        if (items.some((c) => (c as IngestCalculationInput).molecule.smiles === 'POISON')) {
          throw new QfApiError(500, { error: { code: 'internal_error', message: 'internal error' } }, 'internal error');
        }
        return items.map((_, index) => answer('created', { index }));
      },
    };
    const jobs = Array.from({ length: 8 }, (_, i) => job(`j${i}`));
    jobs[5].calculation = { ...jobs[5].calculation!, molecule: { smiles: 'POISON' } };
    const results = await makeSender(client as never, undefined)(jobs);
    expect(results.map((r) => r.outcome)).toEqual(jobs.map((_, i) => (i === 5 ? 'deferred' : 'created')));
    expect(fromIngest(jobs[5], results[5])).toMatchObject({ outcome: 'error', error: expect.stringMatching(/not stored: the server failed on it \(HTTP 500\)/) });
    // A database that is down fails every request alike: no split, the chunk is reported as it failed.
    const down = new QfApiError(503, { error: { code: 'database_unavailable', message: 'down' } }, 'down');
    let calls = 0;
    await expect(makeSender({ ingest: async () => { calls++; throw down; } } as never, undefined)(jobs)).rejects.toBe(down);
    expect(calls).toBe(1);
  });

  it('a deferred item the client gave up on is reported not stored (error), not invalid', () => {
    expect(fromIngest(job('a/j1'), answer('deferred', { calculation_id: null, molecule_id: null, errors: [{ path: 'calculations[3].molecule.smiles', issue: 'not identified: budget' }] })))
      .toMatchObject({ outcome: 'error', error: 'not stored: molecule.smiles: not identified: budget' });
  });

  it('passes other failures on untouched, and sends user_id only when given', async () => {
    const seen: unknown[] = [];
    const down = new QfApiError(0, undefined, 'fetch failed');
    const client = { ingest: async (_: unknown, opts: unknown) => { seen.push(opts); throw down; } };
    await expect(makeSender(client as never, CALC)([job('a')])).rejects.toBe(down);
    await expect(makeSender(client as never, undefined)([job('a')])).rejects.toBe(down);
    expect(seen).toEqual([{ userId: CALC }, {}]);
  });

  it('auth refusals and an unknown owner are fatal; data refusals are not', () => {
    expect(isFatal(new QfApiError(401, undefined, 'x'))).toBe(true);
    expect(isFatal(new QfApiError(403, undefined, 'x'))).toBe(true);
    expect(isFatal(new QfApiError(422, { error: { code: 'x', message: 'user_id: no such user', details: [{ path: 'user_id', issue: 'no such user' }] } }, 'x'))).toBe(true);
    expect(isFatal(new QfApiError(422, { error: { code: 'x', message: 'refused', details: [{ path: 'total_energy_eh', issue: 'check' }] } }, 'x'))).toBe(false);
    expect(isFatal(new QfApiError(500, undefined, 'x'))).toBe(false);
    expect(isFatal(new Error('x'))).toBe(false);
  });
});

describe('formatSummary', () => {
  it('tables every outcome, names the first jobs not stored, and the rate', () => {
    const tally = new Tally();
    const r = (outcome: JobReport['outcome'], path: string, error: string | null = null, already_stored = false): JobReport =>
      ({ path, job_id: path, outcome, calculation_id: null, molecule_id: null, warnings: outcome === 'created' ? ['w'] : [], error, already_stored });
    for (let i = 0; i < 3; i++) tally.add(r('created', `c${i}`));
    tally.add(r('duplicate', 'd', null, true));
    tally.add(r('failed_calculation', 'f1', 'scf', true));
    tally.add(r('failed_calculation', 'f2', 'scf', false));
    for (let i = 0; i < 12; i++) tally.add(r('invalid', `bad${i}`, 'molecule.smiles: RDKit cannot parse the SMILES "C1CC"'));
    tally.add(r('error', 'e', 'ingest failed (HTTP 500): internal error'));
    const walk = {
      ...newWalkCounts(), jobs: 19, skippedDirs: 12, containerDirs: 9,
      containerExamples: ['2025-03', '2025-01', '2025-02', '2025-04', '2025-05'], emptyExamples: ['scratch', 'empty', 'tmp'],
    };
    const text = formatSummary({ tally, walk, seconds: 2, dryRun: false, peakRssBytes: 150 * 2 ** 20, reportFile: 'r.jsonl' });
    expect(text).toContain('created                    3');
    expect(text).toMatch(/^failed_calculation\s+2  \(1 already stored\)$/m);
    expect(text).toContain('error                      1');
    expect(text).toContain('total                     19');
    // Container folders are named (the first few, then how many more); so are the skipped ones.
    expect(text).toContain('folders searched for job directories: 9 (2025-01, 2025-02, 2025-03, 2025-04, 2025-05 and 4 more)');
    expect(text).toContain('directories without metadata.json and without jobs below (skipped): 3 (empty, scratch, tmp)');
    expect(text).toContain('symlinks not followed: 0; unreadable directories: 0');
    expect(text).toContain('3 jobs have warnings (see r.jsonl)');
    expect(text).toContain('  invalid bad0: molecule.smiles: RDKit cannot parse the SMILES "C1CC"');
    expect(text).toContain('  … and 3 more in r.jsonl');
    expect(text).toContain('19 jobs in 2.0 s (10 jobs/s), peak RSS 150 MB');
    expect(text).not.toContain('completed ');
  });

  it('in a dry run, counts what would be sent', () => {
    const tally = new Tally();
    tally.add({ path: 'a', job_id: 'a', outcome: 'completed', calculation_id: null, molecule_id: null, warnings: [], error: null, already_stored: false });
    tally.add({ path: 'b', job_id: 'b', outcome: 'failed_calculation', calculation_id: null, molecule_id: null, warnings: [], error: 'x', already_stored: false });
    const text = formatSummary({ tally, walk: newWalkCounts(), seconds: 1, dryRun: true, peakRssBytes: 0 });
    expect(text).toMatch(/^dry run \(nothing was sent\)/);
    expect(text).toContain('would send 2 calculations (1 completed, 1 failed)');
    expect(text).not.toMatch(/^created/m);
  });
});
