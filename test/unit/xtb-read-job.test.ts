// The file-system side: reading a job's known files and streaming job directories out of a tree.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalkCounts, readJobFiles, walkJobs, type WalkEvent } from '../../shared/xtb/index.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';


let root: string;
const put = (rel: string, text = 'x') => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
};

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'qf-walk-'));
  put('2025/06/10/qf-1/metadata.json', '{}');
  put('2025/06/10/qf-1/input.xyz', '1\n\nH 0 0 0\n');
  put('2025/06/10/qf-1/notes.txt');
  put('2025/06/10/qf-1/inner/metadata.json', '{}'); // jobs do not contain jobs: never reached
  put('legacy/job_0001/metadata.json', '{}');
  put('scratch/queue.log');
  mkdirSync(path.join(root, 'empty'));
  put('dir-named-file/metadata.json/oops'); // metadata.json that is a directory: not a job
  symlinkSync(path.join(root, 'legacy'), path.join(root, 'link-to-legacy'));
  symlinkSync(path.join(root, '2025/06/10/qf-1/input.xyz'), path.join(root, 'legacy/job_0001/input.xyz'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('walkJobs', () => {
  it('yields jobs at any depth, counts non-job directories, follows no symlinks, does not enter jobs', async () => {
    const counts = newWalkCounts();
    const events: WalkEvent[] = [];
    for await (const ev of walkJobs(root, counts)) events.push(ev);
    const of = (kind: WalkEvent['kind']) => events.filter((e) => e.kind === kind).map((e) => e.path).sort();
    expect(of('job')).toEqual(['2025/06/10/qf-1', 'legacy/job_0001']);
    expect(of('skipped_dir')).toEqual(['2025', '2025/06', '2025/06/10', 'dir-named-file', 'dir-named-file/metadata.json', 'empty', 'legacy', 'scratch']);
    expect(counts).toMatchObject({ jobs: 2, skippedDirs: 8, containerDirs: 4, symlinksIgnored: 1, errors: 0 });
    // Directories without metadata.json: those with jobs below, and those without (named, up to 5 of each).
    expect([...counts.containerExamples].sort()).toEqual(['2025', '2025/06', '2025/06/10', 'legacy']);
    expect([...counts.emptyExamples].sort()).toEqual(['dir-named-file', 'dir-named-file/metadata.json', 'empty', 'scratch']);
    expect(events.find((e) => e.kind === 'job')!.dir).toMatch(/^\//);
  });

  it('treats a root that is itself a job as one job with an empty path', async () => {
    const events: WalkEvent[] = [];
    for await (const ev of walkJobs(path.join(root, 'legacy/job_0001'))) events.push(ev);
    expect(events).toEqual([{ kind: 'job', dir: path.join(root, 'legacy/job_0001'), path: '' }]);
  });

  it('reports an unreadable root as an error event instead of throwing', async () => {
    const counts = newWalkCounts();
    const events: WalkEvent[] = [];
    for await (const ev of walkJobs(path.join(root, 'no-such-dir'), counts)) events.push(ev);
    expect(events).toMatchObject([{ kind: 'error' }]);
    expect(counts.errors).toBe(1);
  });

  it('streams: the first job arrives before the walk is over', async () => {
    const it = walkJobs(FIXTURES)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    await it.return?.(undefined);
  });
});

describe('readJobFiles', () => {
  it('reads the known files and ignores unknown ones and symlinks', () => {
    expect(Object.keys(readJobFiles(path.join(root, '2025/06/10/qf-1'))).sort()).toEqual(['input.xyz', 'metadata.json']);
    expect(Object.keys(readJobFiles(path.join(root, 'legacy/job_0001')))).toEqual(['metadata.json']);
  });

  it('reads a real opt job without its trajectory and a GFN-FF job without its topology', () => {
    expect(Object.keys(readJobFiles(path.join(FIXTURES, '2025-03/qf-20250301-00004'))).sort())
      .toEqual(['charges', 'input.xyz', 'metadata.json', 'results.json', 'xtb.out', 'xtbopt.xyz', 'xtbout.json']);
    expect(Object.keys(readJobFiles(path.join(FIXTURES, '2025-03/qf-20250302-00013'))).sort())
      .toEqual(['gfnff_charges', 'input.xyz', 'metadata.json', 'results.json', 'xtb.out']);
    expect(Object.keys(readJobFiles(path.join(FIXTURES, '2025-04/qf-20250401-00018'))).sort())
      .toEqual(['.sccnotconverged', 'input.xyz', 'metadata.json', 'results.json', 'xtb.out']);
  });

  it('opens no symlink and no unknown file, and reads files bigger than its buffer', () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'qf-read-job-'));
    const dir = path.join(outside, 'job');
    try {
      mkdirSync(dir);
      const big = 'x'.repeat(3 * 1024 * 1024 + 7);
      writeFileSync(path.join(dir, 'xtb.out'), big);
      writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
      writeFileSync(path.join(outside, 'secret'), 'outside');
      symlinkSync(path.join(outside, 'secret'), path.join(dir, 'charges'));
      writeFileSync(path.join(dir, 'input.xyz'), '1\n\nH 0 0 0\n');
      const files = readJobFiles(dir);
      expect(Object.keys(files).sort()).toEqual(['input.xyz', 'xtb.out']);
      expect(files['xtb.out']).toBe(big);
      expect(files['input.xyz']).toBe('1\n\nH 0 0 0\n');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
