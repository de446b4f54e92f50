// The only module that touches the file system: reads one job directory's known files and streams the
// job directories of a tree. Uses node:fs and node:path, which Deno provides as well.
import { Buffer } from 'node:buffer';
import { closeSync, constants, openSync, readdirSync, readSync } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { JOB_FILES, type JobFileName, type JobFiles } from './job.ts';
import { fileDigest, type RunDirectoryFiles } from './provenance.ts';

const KNOWN = new Set<string>(JOB_FILES);
const USUAL = 1 << 20;
/** One buffer reused for every file: reads are synchronous, so nothing else uses it meanwhile. */
let buffer = Buffer.allocUnsafe(USUAL);

/** Reads a file into the shared buffer; returns its size (the bytes are buffer[0, size)). */
function readBytes(file: string): number {
  // O_NOFOLLOW: a symlink swapped in after the directory was listed is refused, not followed.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let size = 0;
    for (;;) {
      if (size === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, size);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, size, buffer.length - size, null);
      if (n === 0) break;
      size += n;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

/** One huge file must not keep the buffer resident. */
const shrink = () => { if (buffer.length > USUAL) buffer = Buffer.allocUnsafe(USUAL); };

function readText(file: string): string {
  const size = readBytes(file);
  const text = buffer.toString('utf8', 0, size);
  shrink();
  return text;
}

/**
 * Reads the files of one job directory that the parser knows (see JOB_FILES), as UTF-8 text.
 * Unknown files (xtbopt.log, gfnff_topo, notes) and symlinks are never opened.
 *
 * Synchronous on purpose: the promise API pays thread-pool round trips and a FileHandle per small
 * file, which made reading, not parsing, the uploader's bottleneck. A job directory is read in a
 * fraction of a millisecond, so blocking the event loop for it costs the requests in flight nothing.
 */
export function readJobFiles(dir: string): JobFiles {
  const files: JobFiles = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && KNOWN.has(entry.name)) files[entry.name as JobFileName] = readText(join(dir, entry.name));
  }
  return files;
}

/**
 * The parser's files and the provenance of the whole directory: the SHA-256 of every regular file
 * (the parser's and the others: xtbopt.log, gfnff_topo, …), and xtb.out's bytes when it is to be
 * kept. Each file is read once.
 */
export function readJobDirectory(dir: string, keepXtbOut = false): { files: JobFiles; run: RunDirectoryFiles } {
  const files: JobFiles = {};
  const run: RunDirectoryFiles = { digests: [], xtbOut: null };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const size = readBytes(join(dir, entry.name));
    const bytes = buffer.subarray(0, size);
    run.digests.push(fileDigest(entry.name, bytes));
    if (KNOWN.has(entry.name)) files[entry.name as JobFileName] = buffer.toString('utf8', 0, size);
    if (keepXtbOut && entry.name === 'xtb.out') run.xtbOut = Buffer.from(bytes);
    shrink();
  }
  run.digests.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, run };
}

export type WalkEvent =
  /** A job: `path` is relative to the root, `/`-separated, e.g. `2025-03/qf-20250301-00001`. */
  | { kind: 'job'; dir: string; path: string }
  /** A directory below the root without metadata.json: not a job, its subdirectories are still searched. */
  | { kind: 'skipped_dir'; dir: string; path: string }
  /** A directory that could not be read (permissions, vanished while walking). */
  | { kind: 'error'; dir: string; path: string; error: string };

export interface WalkCounts {
  jobs: number;
  /** Directories below the root without metadata.json: not jobs themselves. */
  skippedDirs: number;
  /** Of those, the ones with job directories somewhere below (month folders and the like). */
  containerDirs: number;
  /** The first few (WALK_EXAMPLES) paths of each kind, in walk order, so that messages can name them. */
  containerExamples: string[];
  /** Directories without metadata.json and without any job below them (`scratch`, empty ones). */
  emptyExamples: string[];
  symlinksIgnored: number;
  errors: number;
}

export const WALK_EXAMPLES = 5;

export const newWalkCounts = (): WalkCounts => ({
  jobs: 0, skippedDirs: 0, containerDirs: 0, containerExamples: [], emptyExamples: [], symlinksIgnored: 0, errors: 0,
});

async function isJobDir(dir: string): Promise<boolean> {
  try {
    return (await lstat(join(dir, 'metadata.json'))).isFile();
  } catch {
    return false;
  }
}

/**
 * Streams the job directories below `root`, depth first. A directory holding metadata.json is a job and
 * is not descended into. Only one open directory handle per level is held, so trees of millions of jobs
 * never sit in memory; symlinks are not followed. Order is the file system's, not sorted.
 */
export async function* walkJobs(root: string, counts: WalkCounts = newWalkCounts()): AsyncGenerator<WalkEvent> {
  const rel = (dir: string) => relative(root, dir).split(sep).join('/');
  async function* visit(dir: string, isRoot: boolean): AsyncGenerator<WalkEvent> {
    if (await isJobDir(dir)) {
      counts.jobs++;
      yield { kind: 'job', dir, path: rel(dir) };
      return;
    }
    const jobsBefore = counts.jobs;
    try {
      if (!isRoot) {
        counts.skippedDirs++;
        yield { kind: 'skipped_dir', dir, path: rel(dir) };
      }
      let handle;
      try {
        handle = await opendir(dir);
      } catch (e) {
        counts.errors++;
        yield { kind: 'error', dir, path: rel(dir), error: (e as Error).message };
        return;
      }
      for await (const entry of handle) {
        if (entry.isSymbolicLink()) counts.symlinksIgnored++;
        else if (entry.isDirectory()) yield* visit(join(dir, entry.name), false);
      }
    } finally {
      // Also when the consumer stops early: a directory is classified by the jobs seen below it so far.
      if (!isRoot) {
        const container = counts.jobs > jobsBefore;
        if (container) counts.containerDirs++;
        const examples = container ? counts.containerExamples : counts.emptyExamples;
        if (examples.length < WALK_EXAMPLES) examples.push(rel(dir));
      }
    }
  }
  yield* visit(root, true);
}
