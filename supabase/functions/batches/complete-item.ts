// POST /batches/complete: one runner's result for one item, stored exactly as ingest stores it,
// linked with the item, and the item marked completed, in one transaction (complete-results.ts).
// 404: not the caller's item. 409: the runner does not hold it (a stale runner whose lease was
// taken over); nothing is written and the current holder is unaffected. 422: not a valid result
// of this item. Sending the same completion again answers 200 with already_completed.
import { CompleteRequest, type CompleteResponse } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { ApiError, conflict, ErrorCode, notFound } from '../_shared/errors.ts';
import { parseBody } from '../_shared/params.ts';
import { completeResults, prepareResults } from './complete-results.ts';

export async function completeItem(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, CompleteRequest, c.var.env.ingestMaxBytes);
  const entries = await prepareResults(c.var.identify, [{ item_id: body.item_id, result: body.result, at: 'result' }]);
  const o = await c.var.db(async (tx) => {
    const [one] = await completeResults(tx, c.var.claims, ownerOf(c), body.runner_id, entries);
    // Not completed: end the transaction with the error, so nothing of it is kept.
    if (one.outcome === 'not_found') throw notFound('batch item');
    if (one.outcome === 'not_held') {
      throw conflict(one.status === 'claimed'
        ? `batch item ${one.item_id} is held by another runner now; this result was not stored`
        : `batch item ${one.item_id} is ${one.status}; runner ${body.runner_id} does not hold it`, one.errors);
    }
    if (one.outcome === 'invalid') {
      const first = one.errors![0];
      throw new ApiError(422, ErrorCode.invalidPayload, `invalid field ${first.path}: ${first.issue}`, one.errors);
    }
    return one;
  });
  const response: CompleteResponse = {
    item_id: o.item_id,
    status: 'completed',
    calculation_id: o.calculation_id!,
    molecule_id: o.molecule_id!,
    outcome: o.stored ?? 'duplicate',
    already_completed: o.outcome === 'already_completed',
  };
  return c.json(response, 200);
}
