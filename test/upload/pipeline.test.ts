// The upload pipeline without a server: a fake `send` stands in for ingest, so batching, bounded
// concurrency, back-pressure, --limit, stopping and failures can be watched exactly.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfApiError } from '../../shared/client.ts';
import type { IngestItemResult } from '../../shared/contract/ingest.ts';
import { newWalkCounts, type ParsedJob } from '../../shared/xtb/index.ts';
import { dryRunChecks } from '../../scripts/upload/dry-run-checks.ts';
import type { JobReport } from '../../scripts/upload/outcomes.ts';
import { prefetch, runPipeline, type PipelineOptions } from '../../scripts/upload/pipeline.ts';
import { makeJobs } from '../../bench/make-jobs.ts';
import { FIXTURES } from './run-upload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Answers `created` for each new (geometry, method, task, …) and `duplicate` after, like ingest. */
function fakeIngest(opts: { delayMs?: number; fail?: (jobs: readonly ParsedJob[]) => unknown } = {}) {
  const stored = new Map<string, number>();
  const state = { requests: [] as string[][], inFlight: 0, maxInFlight: 0 };
  const send = async (jobs: readonly ParsedJob[]): Promise<IngestItemResult[]> => {
    state.requests.push(jobs.map((j) => j.path));
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      await sleep(opts.delayMs ?? 1);
      const failure = opts.fail?.(jobs);
      if (failure) throw failure;
      return jobs.map((j, index) => {
        const c = j.calculation!;
        const key = JSON.stringify([c.geometry, c.method, c.task, c.solvent ?? null, c.charge, c.multiplicity]);
        const known = stored.get(key);
        if (known === undefined) stored.set(key, stored.size + 1);
        return { index, outcome: known === undefined ? 'created' : 'duplicate', calculation_id: uuid(stored.get(key)!), molecule_id: uuid(0) };
      });
    } finally {
      state.inFlight--;
    }
  };
  return { send, state };
}

async function run(o: Partial<PipelineOptions> & Pick<PipelineOptions, 'root'>) {
  const reports: JobReport[] = [];
  const result = await runPipeline({ batchSize: 200, concurrency: 4, emit: (r) => { reports.push(r); }, ...o });
  return { reports, result, byPath: Object.fromEntries(reports.map((r) => [r.path, r])) };
}

let tree: string;
beforeAll(async () => {
  tree = await mkdtemp(path.join(os.tmpdir(), 'qf-upload-pipeline-'));
  await makeJobs({ out: tree, count: 300 });
});
afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('runPipeline', () => {
  it('dry run: the fixture sample gets the parser\'s outcomes, and C1CC is invalid as the server would say', async () => {
    const { reports, byPath, result } = await run({ root: FIXTURES, check: await dryRunChecks() });
    expect(reports).toHaveLength(25);
    expect(result).toMatchObject({ jobs: 25, stoppedEarly: false, walk: { jobs: 25, skippedDirs: 4, errors: 0 } });
    const count = (o: string) => reports.filter((r) => r.outcome === o).length;
    expect({ completed: count('completed'), failed: count('failed_calculation'), running: count('skipped_running'), invalid: count('invalid') })
      .toEqual({ completed: 21, failed: 2, running: 1, invalid: 1 });
    expect(byPath['2025-04/qf-20250401-00022']).toMatchObject({ outcome: 'invalid', error: 'molecule.smiles: cannot parse the SMILES "C1CC": ring bond 1 is never closed' });
    expect(byPath['2025-04/qf-20250401-00018']).toMatchObject({ outcome: 'failed_calculation', error: 'scf: Self consistent charge iterator did not converge' });
    expect(byPath['2025-04/qf-20250401-00019']).toMatchObject({ outcome: 'skipped_running', calculation_id: null });
    expect(reports.every((r) => r.calculation_id === null && r.molecule_id === null)).toBe(true);
  });

  it('sends batches of at most batchSize, sorted by path, with at most `concurrency` in flight', async () => {
    const ingest = fakeIngest({ delayMs: 150 });
    const { reports, byPath } = await run({ root: tree, send: ingest.send, batchSize: 16, concurrency: 3 });
    expect(reports).toHaveLength(300);
    expect(new Set(reports.map((r) => r.path)).size).toBe(300);
    const sent = ingest.state.requests.flat();
    expect(sent).toHaveLength(reports.filter((r) => r.outcome !== 'skipped_running' && r.outcome !== 'invalid').length);
    for (const request of ingest.state.requests) {
      expect(request.length).toBeLessThanOrEqual(16);
      expect(request).toEqual([...request].sort());
    }
    expect(ingest.state.maxInFlight).toBeLessThanOrEqual(3);
    expect(ingest.state.maxInFlight).toBeGreaterThan(1);
    // Copies are never duplicates of each other: every sent job was created (or failed_calculation).
    expect(reports.filter((r) => r.outcome === 'duplicate')).toEqual([]);
    expect(byPath['0000/qf-20250301-00001-g0000000']).toMatchObject({ outcome: 'created', calculation_id: expect.any(String) });
  });

  it('holds no more than (concurrency + 1) batches when the server does not answer', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const ingest = fakeIngest();
    const walk = newWalkCounts();
    const done = run({
      root: tree, walkCounts: walk, batchSize: 10, concurrency: 1, walkAhead: 8,
      send: async (jobs) => { await gate; return ingest.send(jobs); },
    });
    await sleep(500);
    // 1 batch in flight + 1 waiting for its slot + the one being filled, plus the unsendable
    // (running/invalid) jobs between them and the walk's look-ahead.
    expect(walk.jobs).toBeLessThan(60);
    open();
    const { reports } = await done;
    expect(reports).toHaveLength(300);
  });

  it('--limit takes exactly N jobs', async () => {
    const ingest = fakeIngest();
    const { reports, result } = await run({ root: tree, send: ingest.send, limit: 37, batchSize: 10 });
    expect(reports).toHaveLength(37);
    expect(result).toMatchObject({ jobs: 37, stoppedEarly: true });
  });

  it('a request that fails for good gives its jobs `error`; the rest go on', async () => {
    let calls = 0;
    const ingest = fakeIngest({ fail: () => (++calls === 2 ? new QfApiError(500, undefined, 'internal error') : undefined) });
    const { reports, result } = await run({
      root: tree, send: ingest.send, batchSize: 20, concurrency: 1,
      describe: (err) => `ingest failed: ${(err as Error).message}`,
    });
    const errors = reports.filter((r) => r.outcome === 'error');
    expect(errors).toHaveLength(20);
    expect(errors.every((r) => r.error === 'ingest failed: internal error' && r.calculation_id === null)).toBe(true);
    expect(reports).toHaveLength(300);
    expect(result.fatal).toBeUndefined();
  });

  it('a fatal refusal stops the walk; every job taken still gets a report', async () => {
    const refused = new QfApiError(401, undefined, 'invalid token');
    const ingest = fakeIngest({ fail: () => refused });
    const { reports, result } = await run({ root: tree, send: ingest.send, batchSize: 10, concurrency: 1, isFatal: (e) => e === refused });
    expect(result.fatal).toBe(refused);
    expect(result.stoppedEarly).toBe(true);
    expect(result.jobs).toBeLessThan(300);
    expect(reports).toHaveLength(result.jobs);
    expect(ingest.state.requests).toHaveLength(1);
    expect(reports.filter((r) => r.outcome === 'error').every((r) => /invalid token/.test(r.error!))).toBe(true);
  });

  it('an abort signal stops taking jobs; those taken are finished', async () => {
    const stop = new AbortController();
    const ingest = fakeIngest();
    let seen = 0;
    const reports: JobReport[] = [];
    const result = await runPipeline({
      root: tree, send: ingest.send, batchSize: 10, concurrency: 2, signal: stop.signal,
      emit: (r) => { reports.push(r); if (++seen === 50) stop.abort(); },
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.jobs).toBeLessThan(300);
    expect(reports).toHaveLength(result.jobs);
  });
});

describe('prefetch', () => {
  async function* numbers(n: number, log: string[]) {
    try {
      for (let i = 0; i < n; i++) {
        log.push(`make ${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  }

  it('yields everything in order and requests ahead', async () => {
    const log: string[] = [];
    const out: number[] = [];
    for await (const x of prefetch(numbers(10, log), 3)) {
      out.push(x);
      if (x === 0) expect(log.filter((l) => l.startsWith('make')).length).toBeGreaterThanOrEqual(3);
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.at(-1)).toBe('closed');
  });

  it('closes the source when the consumer stops early, and passes errors on', async () => {
    const log: string[] = [];
    for await (const x of prefetch(numbers(100, log), 4)) if (x === 2) break;
    expect(log.at(-1)).toBe('closed');
    expect(log.filter((l) => l.startsWith('make')).length).toBeLessThan(10);
    async function* boom() {
      yield 1;
      throw new Error('boom');
    }
    const got: number[] = [];
    await expect((async () => { for await (const x of prefetch(boom(), 4)) got.push(x); })()).rejects.toThrow('boom');
    expect(got).toEqual([1]);
  });
});
