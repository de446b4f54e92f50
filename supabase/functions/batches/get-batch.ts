// GET /batches/:id: one batch with its progress and a page of its items (creation order), which
// may be filtered by item status.
import { GetBatchQuery, type GetBatchResponse } from '../../../shared/contract/batches.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { CursorField, cursorCodec } from '../_shared/cursor.ts';
import { notFound } from '../_shared/errors.ts';
import { fetchPage } from '../_shared/page.ts';
import { cursorParam, parseQuery, uuidParam } from '../_shared/params.ts';
import { selectBatch, selectItems, toItem } from './rows.ts';

/** Where the item page continues: after the item with this seq (creation order). */
const itemCursor = cursorCodec('batch_items', { seq: CursorField.bigint });

export async function getBatch(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const q = parseQuery(c, GetBatchQuery);
  const after = cursorParam(itemCursor, q.cursor);
  const response = await c.var.db(async (tx): Promise<GetBatchResponse> => {
    const batch = await selectBatch(tx, id);
    if (!batch) throw notFound('batch');
    const page = await fetchPage(q.limit,
      (n) => selectItems(tx, { owner: batch.user_id, batchId: id, status: q.status, afterSeq: after?.seq, limit: n }),
      (last) => itemCursor.encode({ seq: last.seq }));
    return { batch, items: page.rows.map(toItem), next_cursor: page.next_cursor };
  });
  return c.json(response, 200);
}
