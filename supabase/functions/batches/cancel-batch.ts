// POST /batches/:id/cancel: a pending or running batch becomes cancelled (public.cancel_batch).
// Its pending items are cancelled; claimed ones are never reissued, but their runner may still
// complete them. Cancelling twice is fine; cancelling a finished batch is a 409.
import type { Context } from 'hono';
import { BatchActionRequest, type CancelResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';
import { batchIdParam, readOptionalJsonBody, SMALL_BODY_BYTES } from './params.ts';
import { selectBatch } from './rows.ts';
import { resolveScope } from './scope.ts';

export function cancelBatch(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = batchIdParam(c);
    const body = parseOr(BatchActionRequest, await readOptionalJsonBody(c, SMALL_BODY_BYTES));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const response = await withCaller(deps.sql, claims, async (tx) => {
      const [r] = await tx<{ outcome: string; cancelled_items: number }[]>`
        select outcome, cancelled_items from public.cancel_batch(${id}, ${scope.allUsers})`;
      if (r.outcome === 'not_found') throw notFound('batch');
      if (r.outcome.startsWith('finished:')) {
        throw conflict(`the batch is already ${r.outcome.slice('finished:'.length)}; only a pending or running batch can be cancelled`);
      }
      const result: CancelResponse = {
        batch: (await selectBatch(tx, id))!,
        cancelled_items: r.cancelled_items,
        already_cancelled: r.outcome === 'already_cancelled',
      };
      return result;
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 200);
  };
}
