// Checks that a result's provenance says what it claims before it is stored: the kept xtb.out
// decompresses to the size and SHA-256 given (and to the hash `files` lists for xtb.out), and the
// input file is the one `files` lists for input.xyz. Web APIs only (DecompressionStream,
// crypto.subtle), so it runs in Deno and in Node alike.
import type { Provenance } from '../../../shared/contract/provenance.ts';
import { readCapped } from './read-capped.ts';

export interface ProvenanceIssue {
  /** Relative to `provenance`, e.g. `raw_output.sha256`. */
  path: string;
  issue: string;
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
export const sha256Hex = async (bytes: Uint8Array) => hex(await crypto.subtle.digest('SHA-256', bytes as BufferSource));

function fromBase64(text: string): Uint8Array | null {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    return null;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Gunzips at most `limit` bytes; null when the data is not gzip or is longer than that. */
async function gunzip(data: Uint8Array, limit: number): Promise<Uint8Array | null> {
  try {
    const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
    return await readCapped(stream, limit);
  } catch {
    return null;
  }
}

export async function provenanceIssues(p: Provenance): Promise<ProvenanceIssue[]> {
  const issues: ProvenanceIssue[] = [];
  const byName = new Map(p.files.map((f, i) => [f.name, { ...f, i }]));
  if (byName.size !== p.files.length) issues.push({ path: 'files', issue: 'names a file more than once' });
  if (p.input_xyz != null) {
    const listed = byName.get('input.xyz');
    const bytes = new TextEncoder().encode(p.input_xyz);
    if (listed && (listed.sha256 !== await sha256Hex(bytes) || listed.bytes !== bytes.byteLength)) {
      issues.push({ path: 'input_xyz', issue: `is not the input.xyz of files[${listed.i}] (its SHA-256 or size differs)` });
    }
  }
  const raw = p.raw_output;
  if (raw) {
    const data = fromBase64(raw.data);
    const text = data && await gunzip(data, raw.bytes);
    if (!text || text.byteLength !== raw.bytes) {
      issues.push({ path: 'raw_output.data', issue: `does not gunzip to the ${raw.bytes} bytes given` });
    } else if (await sha256Hex(text) !== raw.sha256) {
      issues.push({ path: 'raw_output.sha256', issue: 'is not the SHA-256 of the uncompressed data' });
    } else {
      const listed = byName.get('xtb.out');
      if (listed && listed.sha256 !== raw.sha256) {
        issues.push({ path: 'raw_output.sha256', issue: `differs from the SHA-256 files[${listed.i}] gives for xtb.out` });
      }
    }
  }
  return issues;
}
