// DELETE /batches/:id: removes a completed, failed or cancelled batch with its items. The
// calculations its items produced stay (their batch_item_id is set null by the foreign key); a
// pending or running batch is a 409, so no runner loses an item it holds.
import { DeleteBatchQuery, type DeleteBatchResponse } from '../../../shared/contract/batches.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';

export async function deleteBatch(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  parseQuery(c, DeleteBatchQuery);
  const response = await c.var.db(async (tx): Promise<DeleteBatchResponse> => {
    const [batch] = await tx<{ status: string; total_items: number }[]>`
      select status, total_items from public.batch_jobs where id = ${id} for update`;
    if (!batch) throw notFound('batch');
    if (batch.status === 'pending' || batch.status === 'running') {
      throw conflict(`the batch is ${batch.status}; cancel it first (POST /batches/${id}/cancel)`);
    }
    await tx`delete from public.batch_jobs where id = ${id}`;
    return { deleted: { batches: 1, items: batch.total_items } };
  });
  return c.json(response, 200);
}
