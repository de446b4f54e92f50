// Reads the parser's files of one job directory with synchronous calls. Same contract as
// shared/xtb's readJobFiles (the files named in JOB_FILES, regular files only, never through a
// symlink, UTF-8), but several times cheaper per job: the promise API pays thread-pool round trips
// and a FileHandle per small file, which made reading, not parsing, the uploader's bottleneck. A
// job directory is read in a fraction of a millisecond, so blocking the event loop for it costs the
// requests in flight nothing. One buffer is reused for every file (this is single-threaded).
import { closeSync, constants, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileDigest, JOB_FILES, type JobFileName, type JobFiles, type RunDirectoryFiles } from '../../shared/xtb/index.ts';

const KNOWN = new Set<string>(JOB_FILES);
const USUAL = 1 << 20;
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

export function readJobFilesSync(dir: string): JobFiles {
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
export function readJobDirectorySync(dir: string, keepXtbOut = false): { files: JobFiles; run: RunDirectoryFiles } {
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
