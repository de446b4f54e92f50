// Provenance of a run, the same for the runner and the uploader: the SHA-256 of every regular file
// of the run directory, and xtb.out compressed when it is to be kept. parseXtbRun fills in the
// command, the version line, the parser version and the input file; the caller adds what needs
// the file system (`withFiles`). node:crypto, node:zlib and node:fs exist in Deno as in Node.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { IngestCalculationInput } from '../contract/ingest.ts';
import type { FileDigest, RawOutput } from '../contract/provenance.ts';

/** Files xtb reads (the application's description of the job counts as one); every other file is an output. */
const INPUT_FILES = new Set(['input.xyz', 'metadata.json', 'xcontrol', '.CHRG', '.UHF']);

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function fileDigest(name: string, bytes: Uint8Array): FileDigest {
  return { name, role: INPUT_FILES.has(name) ? 'input' : 'output', sha256: sha256Hex(bytes), bytes: bytes.byteLength };
}

export interface RunDirectoryFiles {
  /** Every regular file, by name (symlinks and directories are not followed). */
  digests: FileDigest[];
  /** xtb.out's bytes, when asked for and present. */
  xtbOut: Uint8Array | null;
}

/** Hashes every regular file of a run directory; keeps xtb.out's bytes when `keepXtbOut`. */
export function digestRunDirectory(dir: string, keepXtbOut = false): RunDirectoryFiles {
  const digests: FileDigest[] = [];
  let xtbOut: Uint8Array | null = null;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const bytes = readFileSync(join(dir, entry.name));
    digests.push(fileDigest(entry.name, bytes));
    if (keepXtbOut && entry.name === 'xtb.out') xtbOut = bytes;
  }
  digests.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { digests, xtbOut };
}

export function rawOutput(bytes: Uint8Array): RawOutput {
  return { encoding: 'gzip+base64', sha256: sha256Hex(bytes), bytes: bytes.byteLength, data: gzipSync(bytes, { level: 6 }).toString('base64') };
}

/**
 * Adds the file hashes (and xtb.out, when kept) to a parsed calculation's provenance. The input
 * file's text is kept only when it is the file whose hash is listed (it always is, unless the file
 * was not valid UTF-8).
 */
export function withFiles(calc: IngestCalculationInput, run: RunDirectoryFiles): IngestCalculationInput {
  const base = calc.provenance ?? {};
  const listed = run.digests.find((d) => d.name === 'input.xyz');
  const input = base.input_xyz;
  const inputMatches = input == null || !listed || sha256Hex(new TextEncoder().encode(input)) === listed.sha256;
  return {
    ...calc,
    provenance: {
      ...base,
      files: run.digests,
      input_xyz: inputMatches ? input : null,
      raw_output: run.xtbOut ? rawOutput(run.xtbOut) : null,
    },
  };
}
