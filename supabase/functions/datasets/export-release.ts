// GET /datasets/:id/releases/:version/export?format=extxyz|ndjson|csv[&split=…][&profile=mace]
// [&limit=…][&cursor=…]: the release's members streamed in canonical order by the writers of
// /query/export (_shared/export-formats.ts), floats as stored. The members, their rows and the
// writers are all frozen (the guard of migration release_functions refuses any change to a held
// calculation), so the same request gives the same bytes today, after other data changed, and
// after a restart.
//
// Parts: a response holds at most `limit` members, and never more than the part size
// (EXPORT_PART_ROWS, as /query/export), so that each request fits the platform's CPU per request;
// X-Next-Cursor continues after the last member of the response, and the parts joined are the
// whole export byte for byte (the csv header comes with the first part only).
// profile=mace: the first part opens with one IsolatedAtom frame per reference atom energy of the
// manifest (isolatedAtomFrames).
// A sealing release (its content hash not finished, seal-part.ts) exports nothing: 409.
// ETag: the full canonical ndjson export (no split, no profile, no cursor or limit, and all of it
// in one part) carries the release's content hash, and If-None-Match with it answers 304.
import { z } from 'zod';
import { ExportReleaseQuery } from '../../../shared/contract/datasets.ts';
import { EXPORT_CONTENT_TYPES, NEXT_CURSOR_HEADER } from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { CursorField, cursorCodec, cursorError } from '../_shared/cursor.ts';
import { badRequest, conflict } from '../_shared/errors.ts';
import { EXPORT_FORMATS, exportWriter, partLimit } from '../_shared/export-formats.ts';
import { cursorParam, parseQuery, uuidParam, versionParam } from '../_shared/params.ts';
import { streamRows } from '../_shared/row-stream.ts';
import { exactFloats, findRelease, isolatedAtomFrames, memberRows, rangeEnd, type MemberRange } from './release-sql.ts';

/** Where a release export continues: the release and the last member written. */
const releaseCursor = cursorCodec('release-export', { id: CursorField.id, o: z.number().int().min(1) });

export async function exportRelease(c: RequestContext, partRows: number): Promise<Response> {
  const datasetId = uuidParam(c);
  const version = versionParam(c);
  const q = parseQuery(c, ExportReleaseQuery);
  const writer = exportWriter(q);
  const cursor = cursorParam(releaseCursor, q.cursor);

  const release = await c.var.db((tx) => findRelease(tx, datasetId, version));
  const withdrawn = (reason: string | null) =>
    conflict(`release ${version} of dataset ${release.manifest.dataset.name} is withdrawn: ${reason}`, [{ path: 'version', issue: 'withdrawn' }]);
  if (release.summary.status === 'withdrawn') throw withdrawn(release.summary.withdrawn_reason);
  if (q.split && release.split_seed === null) {
    throw badRequest('invalid query parameter split: this release was made without splits', [{ path: 'split', issue: 'the release has no splits' }]);
  }
  if (cursor && cursor.id !== release.summary.id) throw cursorError('this cursor belongs to another release');

  const limit = partLimit(q.limit, partRows);
  const whole = q.format === 'ndjson' && !q.split && !q.profile && !cursor && q.limit === undefined &&
    release.summary.calculations <= limit;
  const etag = whole ? `"${release.summary.content_sha256}"` : undefined;
  if (etag && c.req.header('if-none-match')?.split(',').some((t) => t.trim() === etag)) {
    return new Response(null, { status: 304, headers: { etag } });
  }

  const format = EXPORT_FORMATS[q.format];
  const range: MemberRange = { releaseId: release.summary.id, split: q.split, after: cursor?.o };
  const { body, meta } = await streamRows({
    db: c.var.db,
    chunkRows: format.chunkRows,
    encode: format.encoder(writer),
    prefix: cursor ? '' : format.header + (writer.mace ? isolatedAtomFrames(release.manifest) : ''),
    prepare: async (tx) => {
      // Withdrawn since the look-up above? Then some members may be gone: refuse rather than skip them.
      const [now] = await tx<{ status: string; withdrawn_reason: string | null }[]>`
        select status, withdrawn_reason from public.releases where id = ${release.summary.id}::uuid`;
      if (now?.status !== 'published') throw withdrawn(now?.withdrawn_reason ?? null);
      await exactFloats(tx);
      let next: string | null = null;
      const through = await rangeEnd(tx, range, limit);
      if (through !== undefined) {
        range.through = through;
        next = releaseCursor.encode({ id: release.summary.id, o: through });
      }
      const select = memberRows(tx, format, writer, range);
      return { query: format.raw ? select.raw() : select, meta: { next } };
    },
  });

  const name = `${release.manifest.dataset.name}-v${version}${q.split ? `-${q.split}` : ''}`;
  const headers = new Headers({
    'content-type': EXPORT_CONTENT_TYPES[q.format],
    'content-disposition': `attachment; filename="${name}.${format.extension}"`,
    // The bytes never change while the release is published; a withdrawn one answers 409.
    'cache-control': 'private, no-cache',
  });
  if (etag) headers.set('etag', etag);
  if (meta.next) headers.set(NEXT_CURSOR_HEADER, meta.next);
  return new Response(body, { status: 200, headers });
}
