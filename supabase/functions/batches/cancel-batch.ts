// POST /batches/:id/cancel: a pending or running batch becomes cancelled (public.cancel_batch).
// Its pending items are cancelled; claimed ones are never reissued, but their runner may still
// complete them. Cancelling twice is fine; cancelling a finished batch is a 409.
import { BatchActionRequest, type CancelResponse } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES, uuidParam } from '../_shared/params.ts';
import { selectBatch } from './rows.ts';

export async function cancelBatch(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  await parseBody(c, BatchActionRequest, SMALL_BODY_BYTES, { optional: true });
  const response = await c.var.db(async (tx): Promise<CancelResponse> => {
    const [r] = await tx<{ outcome: string; cancelled_items: number }[]>`
      select outcome, cancelled_items from public.cancel_batch(${id}, ${ownerOf(c).allUsers})`;
    if (r.outcome === 'not_found') throw notFound('batch');
    if (r.outcome.startsWith('finished:')) {
      throw conflict(`the batch is already ${r.outcome.slice('finished:'.length)}; only a pending or running batch can be cancelled`);
    }
    return { batch: (await selectBatch(tx, id))!, cancelled_items: r.cancelled_items, already_cancelled: r.outcome === 'already_cancelled' };
  });
  return c.json(response, 200);
}
