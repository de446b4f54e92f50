// GET /export?format=extxyz|ndjson|csv&<any /calculations filter>: the selection streamed from a
// server-side cursor (row-stream.ts), in the order of `sort`/`order`. A response holds at most
// `limit` calculations, and never more than the part size (EXPORT_PART_ROWS): where more follow,
// the X-Next-Cursor header continues after its last one. So every request of a long export fits
// the platform's per-request CPU, and the parts joined are the whole file (the csv header comes
// only in the first).
import { EXPORT_CONTENT_TYPES, ExportQuery, NEXT_CURSOR_HEADER } from '../../../shared/contract/query.ts';
import { filterClause, resolveFilters } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { EXPORT_FORMATS, exportWriter, partLimit } from '../_shared/export-formats.ts';
import { parseQuery } from '../_shared/params.ts';
import { streamRows } from '../_shared/row-stream.ts';
import { cursorAfter, cursorValue, keysetFrom, keysetIds, keysetOrder, keysetSelect } from './calculation-sql.ts';

export async function getExport(c: RequestContext, partRows: number): Promise<Response> {
  const q = parseQuery(c, ExportQuery);
  const limit = partLimit(q.limit, partRows);
  const writer = exportWriter(q);
  const keyset = keysetFrom(q);
  const filters = await resolveFilters(q);
  const format = EXPORT_FORMATS[q.format];

  const { body, meta } = await streamRows({
    db: c.var.db,
    chunkRows: format.chunkRows,
    encode: format.encoder(writer),
    prefix: q.cursor ? '' : format.header,
    prepare: async (tx) => {
      // Shortest text that reads back as the same double (the server default, made explicit).
      await tx`select set_config('extra_float_digits', '1', true)`;
      const where = () => tx`${filterClause(tx, filters)} and ${format.where(tx)}`;
      let next: string | null = null;
      // The last row of this response and whether another follows: `limit + 1` index entries
      // read from where the cursor starts (never the pages before it).
      const edge = await tx`
        select p.id, ${cursorValue(tx, keyset, tx`p.v`)} as k
          from ${keysetIds(tx, keyset, where(), limit + 1)} p
         order by ${keysetOrder(tx, keyset)}
         offset ${limit - 1} limit 2`;
      if (edge.length === 2) {
        const last = { v: edge[0].k as number | string | null, id: edge[0].id as string };
        keyset.through = last;
        next = cursorAfter(keyset, last);
      }
      const select = tx`
        /* qf:export */
        ${keysetSelect(tx, keyset, { columns: format.columns(tx, writer), extra: format.lateral(tx), where: where(), limit })}`;
      return { query: format.raw ? select.raw() : select, meta: { next } };
    },
  });

  const headers = new Headers({
    'content-type': EXPORT_CONTENT_TYPES[q.format],
    'content-disposition': `attachment; filename="calculations.${format.extension}"`,
    'cache-control': 'no-store',
  });
  if (meta.next) headers.set(NEXT_CURSOR_HEADER, meta.next);
  return new Response(body, { status: 200, headers });
}
