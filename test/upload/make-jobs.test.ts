// The bench's job generator: each copy parses to its source's outcome with the same warnings, keeps
// its directory name as its job id, and no two copies (nor a copy and its source) share an identity.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geometrySha256 } from '../../shared/chem/geometry.ts';
import { parseJobFiles, readJobFiles, walkJobs, type ParsedJob } from '../../shared/xtb/index.ts';
import { jobPath, makeJobs, shiftDigits } from '../../bench/make-jobs.ts';
import { FIXTURES } from './run-upload.ts';

const COUNT = 120;
let out: string;
const sources = new Map<string, ParsedJob>();
const copies: { source: string; job: ParsedJob }[] = [];

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'qf-make-jobs-'));
  await makeJobs({ out, count: COUNT });
  for await (const ev of walkJobs(FIXTURES)) {
    if (ev.kind === 'job') sources.set(ev.path.split('/').pop()!, parseJobFiles(ev.path, readJobFiles(ev.dir)));
  }
  for await (const ev of walkJobs(out)) {
    if (ev.kind !== 'job') continue;
    const source = ev.path.split('/').pop()!.replace(/-g\d+$/, '');
    copies.push({ source, job: parseJobFiles(ev.path, readJobFiles(ev.dir)) });
  }
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('make-jobs', () => {
  it('writes N jobs, 1,000 to a directory, each directory with a scratch directory that is not a job', async () => {
    expect(copies).toHaveLength(COUNT);
    expect(jobPath(1234, 'legacy/job_0001')).toBe('0001/job_0001-g0001234');
    let skipped = 0;
    for await (const ev of walkJobs(out)) if (ev.kind === 'skipped_dir') skipped++;
    expect(skipped).toBe(2); // 0000/ and 0000/scratch
  });

  it('each copy has its source\'s outcome and warnings, and its directory name as job id', () => {
    for (const { source, job } of copies) {
      const src = sources.get(source)!;
      expect(job.outcome, job.path).toBe(src.outcome);
      expect(job.warnings, job.path).toEqual(src.warnings);
      expect(job.error, job.path).toBe(src.error);
      expect(job.job_id).toBe(job.path.split('/').pop());
      if (job.calculation?.results) {
        const de = job.calculation.results.total_energy_eh - src.calculation!.results!.total_energy_eh;
        expect(de).toBeGreaterThan(0);
        expect(de).toBeLessThanOrEqual(5e-7 + 1e-12);
      }
    }
  });

  it('no two geometries hash alike, and none is its source\'s', async () => {
    const hashes = new Set<string>();
    for (const s of sources.values()) if (s.calculation) hashes.add(await geometrySha256(s.calculation.geometry));
    const rerun = hashes.size; // 00016 re-ran 00003: one hash fewer than jobs with a geometry
    for (const { job } of copies) if (job.calculation) hashes.add(await geometrySha256(job.calculation.geometry));
    expect(hashes.size).toBe(rerun + copies.filter((c) => c.job.calculation).length);
  });

  it('shift digits are the base-99 digits of i + 1', () => {
    expect(shiftDigits(0, 6)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(shiftDigits(98, 6)).toEqual([0, 1, 0, 0, 0, 0]);
    expect(shiftDigits(99 ** 3 - 2, 6)).toEqual([98, 98, 98, 0, 0, 0]);
    expect(() => shiftDigits(99 ** 2, 2)).toThrow(/needs more coordinates/);
  });
});
