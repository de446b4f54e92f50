// One part of a release's content hash: the next `partRows` members' canonical ndjson, read from a
// cursor and fed to the SHA-256 taken up from the release row, then either the progress saved
// (202: more parts follow) or, after the last part, public.seal_release (the manifest; 201).
//
// Why in parts: the content hash covers every member's ndjson (2.3 kB for ~20 atoms), and reading
// and hashing it costs the function about 50 µs of CPU per member (bench:release), so 10^5
// members cost several seconds and 10^6 a minute, where a hosted request gets 2 s. Each request
// hashes at most RELEASE_PART_ROWS members; the state between requests is the SHA-256 midstate
// (_shared/sha256.ts) in the release row. The caller holds the row (created in its transaction,
// or locked FOR UPDATE), so two requests never hash the same part.
import type postgres from 'postgres';
import type { ReleaseSealing } from '../../../shared/contract/datasets.ts';
import type { RequestContext } from '../_shared/caller.ts';
import type { Fragment, Tx } from '../_shared/db.ts';
import { EXPORT_FORMATS } from '../_shared/export-formats.ts';
import { Sha256 } from '../_shared/sha256.ts';
import { exactFloats, findRelease, memberRows, rangeEnd, releaseResponse, sealingMembers, sealPath, type ReleaseRow } from './release-sql.ts';

/** A sealing release as its row holds it (locked by the caller). */
export interface SealingRow {
  id: string;
  dataset_id: string;
  version: number;
  hashed_through: number;
  hashed_bytes: number;
  sha256_midstate: Uint8Array | null;
}

/** The columns of SealingRow, for `public.releases r` (the byte count fits a double exactly). */
export const sealingColumns = (tx: Tx): Fragment =>
  tx`r.id, r.dataset_id, r.version, r.hashed_through, r.hashed_bytes::float8 as hashed_bytes, r.sha256_midstate`;

export type PartResult = { sealed: ReleaseRow } | { sealing: ReleaseSealing };

/** The answer to a request that hashed a part: 201 with the release once sealed, 202 with the progress. */
export const partResponse = (c: RequestContext, part: PartResult): Response =>
  'sealed' in part ? c.json(releaseResponse(part.sealed), 201) : c.json(part.sealing, 202);

/** Rows fetched from the cursor at a time (~2.3 kB each). */
const CURSOR_ROWS = 2000;

export async function sealNextPart(tx: Tx, r: SealingRow, partRows: number): Promise<PartResult> {
  await exactFloats(tx);
  const after = r.hashed_through;
  // The last ordinal of this part, or undefined when the rest fits in it.
  const through = await rangeEnd(tx, { releaseId: r.id, after }, partRows);
  const hash = r.sha256_midstate ? Sha256.restore(r.sha256_midstate, r.hashed_bytes) : new Sha256();
  const rows = memberRows(tx, EXPORT_FORMATS.ndjson, { refKeys: false }, { releaseId: r.id, after, through }).raw();
  for await (const chunk of rows.cursor(CURSOR_ROWS) as AsyncIterable<postgres.Row[]>) {
    for (const row of chunk as unknown as Uint8Array[][]) hash.update(row[0]);
  }

  if (through === undefined) {
    await tx`select 1 from public.seal_release(${r.id}::uuid, ${hash.hex()}, ${hash.bytes})`;
    return { sealed: await findRelease(tx, r.dataset_id, r.version) };
  }
  const [{ members }] = await tx<{ members: number }[]>`
    update public.releases r
       set hashed_through = ${through}, hashed_bytes = ${hash.bytes}, sha256_midstate = ${hash.save()}
     where r.id = ${r.id}::uuid
    returning ${sealingMembers(tx)} as members`;
  return {
    sealing: {
      release: { id: r.id, version: r.version, status: 'sealing' },
      sealing: { members, hashed: through, bytes: hash.bytes, next: sealPath(r.dataset_id, r.version) },
    },
  };
}
