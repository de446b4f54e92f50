// POST /batches/:id/retry: the batch's failed items go back to pending with fresh attempts
// (public.retry_batch); their attempt_history is kept. Items that had the attempt limit in all
// stay failed (exhausted_items); a cancelled batch, or one whose failed items are all exhausted,
// cannot be retried (409).
import { BatchActionRequest, type RetryResponse } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES, uuidParam } from '../_shared/params.ts';
import { selectBatch } from './rows.ts';

export async function retryBatch(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  await parseBody(c, BatchActionRequest, SMALL_BODY_BYTES, { optional: true });
  const response = await c.var.db(async (tx): Promise<RetryResponse> => {
    const [r] = await tx<{ outcome: string; retried_items: number; exhausted_items: number }[]>`
      select outcome, retried_items, exhausted_items from public.retry_batch(${id}, ${ownerOf(c).allUsers})`;
    if (r.outcome === 'not_found') throw notFound('batch');
    if (r.outcome === 'cancelled') throw conflict('the batch is cancelled; a cancelled batch cannot be retried');
    if (r.outcome === 'exhausted') {
      throw conflict(`none of the batch's failed items can be retried: each has had the attempt limit in all`, [
        { path: 'items', issue: `${r.exhausted_items} failed item(s) at the attempt limit; see each item's total_attempts and last_error` },
      ]);
    }
    return { batch: (await selectBatch(tx, id))!, retried_items: r.retried_items, exhausted_items: r.exhausted_items };
  });
  return c.json(response, 200);
}
