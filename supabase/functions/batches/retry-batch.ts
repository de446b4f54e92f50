// POST /batches/:id/retry: the batch's failed items go back to pending with fresh attempts
// (public.retry_batch); their attempt_history is kept. A cancelled batch cannot be retried (409).
import type { Context } from 'hono';
import { BatchActionRequest, type RetryResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';
import { batchIdParam, readOptionalJsonBody, SMALL_BODY_BYTES } from './params.ts';
import { selectBatch } from './rows.ts';
import { resolveScope } from './scope.ts';

export function retryBatch(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = batchIdParam(c);
    const body = parseOr(BatchActionRequest, await readOptionalJsonBody(c, SMALL_BODY_BYTES));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const response = await withCaller(deps.sql, claims, async (tx) => {
      const [r] = await tx<{ outcome: string; retried_items: number }[]>`
        select outcome, retried_items from public.retry_batch(${id}, ${scope.allUsers})`;
      if (r.outcome === 'not_found') throw notFound('batch');
      if (r.outcome === 'cancelled') throw conflict('the batch is cancelled; a cancelled batch cannot be retried');
      const result: RetryResponse = { batch: (await selectBatch(tx, id))!, retried_items: r.retried_items };
      return result;
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 200);
  };
}
