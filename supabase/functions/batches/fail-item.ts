// POST /batches/fail: records a failed attempt with public.fail_batch_item. The item goes back to
// pending while attempts remain and the error class is retryable (all but invalid_input), and
// fails for good otherwise. Only the runner that holds the item may report it (409 otherwise).
import { FailRequest, type FailResponse } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES } from '../_shared/params.ts';

interface FailRow {
  outcome: 'recorded' | 'already_recorded' | 'not_found' | 'not_held';
  status: FailResponse['status'] | 'claimed' | 'completed' | null;
  attempts: number | null;
  max_attempts: number | null;
  claimed_by: string | null;
}

export async function failItem(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, FailRequest, SMALL_BODY_BYTES);
  const itemId = body.item_id.toLowerCase();
  const [row] = await c.var.db((tx) => tx<FailRow[]>`
    select * from public.fail_batch_item(${itemId}, ${body.runner_id}, ${body.error_class}, ${body.message}, ${ownerOf(c).allUsers})`);

  if (row.outcome === 'not_found') throw notFound('batch item');
  if (row.outcome === 'not_held') {
    throw conflict(`batch item ${itemId} is ${row.status}${row.status === 'claimed' ? ' by another runner' : ''}; runner ${body.runner_id} does not hold it`,
      [{ path: 'item_id', issue: `item is ${row.status}` }]);
  }
  const response: FailResponse = {
    item_id: itemId,
    status: row.status as FailResponse['status'],
    attempts: row.attempts!,
    max_attempts: row.max_attempts!,
    already_recorded: row.outcome === 'already_recorded',
  };
  return c.json(response, 200);
}
