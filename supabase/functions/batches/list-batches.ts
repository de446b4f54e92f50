// GET /batches: the caller's batches, newest first, each with its batch_progress, paged by cursor.
import { ListBatchesQuery, type ListBatchesResponse } from '../../../shared/contract/batches.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { CursorField, cursorCodec } from '../_shared/cursor.ts';
import { fetchPage } from '../_shared/page.ts';
import { cursorParam, parseQuery } from '../_shared/params.ts';
import { selectBatches, toBatch } from './rows.ts';

/** Where the listing continues: after this batch, in (created_at, id) order, newest first. */
const batchCursor = cursorCodec('batches', { v: CursorField.time, id: CursorField.id });

export async function listBatches(c: RequestContext): Promise<Response> {
  const q = parseQuery(c, ListBatchesQuery);
  const after = cursorParam(batchCursor, q.cursor);
  const page = await c.var.db((tx) =>
    fetchPage(q.limit, (n) => selectBatches(tx, { status: q.status, after, limit: n }),
      (last) => batchCursor.encode({ v: last.cursor, id: last.id })));
  const response: ListBatchesResponse = { data: page.rows.map(toBatch), next_cursor: page.next_cursor };
  return c.json(response, 200);
}
