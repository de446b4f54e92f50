// Reads the parser's files of one job directory with synchronous calls. Same contract as
// shared/xtb's readJobFiles (the files named in JOB_FILES, regular files only, never through a
// symlink, UTF-8), but several times cheaper per job: the promise API pays thread-pool round trips
// and a FileHandle per small file, which made reading, not parsing, the uploader's bottleneck. A
// job directory is read in a fraction of a millisecond, so blocking the event loop for it costs the
// requests in flight nothing. One buffer is reused for every file (this is single-threaded).
import { closeSync, constants, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_FILES, type JobFileName, type JobFiles } from '../../shared/xtb/index.ts';

const KNOWN = new Set<string>(JOB_FILES);
const USUAL = 1 << 20;
let buffer = Buffer.allocUnsafe(USUAL);

function readText(file: string): string {
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
    const text = buffer.toString('utf8', 0, size);
    if (buffer.length > USUAL) buffer = Buffer.allocUnsafe(USUAL); // one huge file must not stay resident
    return text;
  } finally {
    closeSync(fd);
  }
}

export function readJobFilesSync(dir: string): JobFiles {
  const files: JobFiles = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && KNOWN.has(entry.name)) files[entry.name as JobFileName] = readText(join(dir, entry.name));
  }
  return files;
}
