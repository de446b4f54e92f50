// POST /batches/complete: one runner's result for one item, stored exactly as ingest stores it,
// linked with the item, and the item marked completed, in one transaction (complete-results.ts).
// 404: not the caller's item. 409: the runner does not hold it (a stale runner whose lease was
// taken over); nothing is written and the current holder is unaffected. 422: not a valid result
// of this item. Sending the same completion again answers 200 with already_completed.
import type { Context } from 'hono';
import { CompleteRequest, type CompleteResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { ApiError, conflict, ErrorCode, notFound } from '../_shared/errors.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { cpuNowMs, identifyBudget } from '../_shared/molecules.ts';
import { completeResults, prepareResults } from './complete-results.ts';
import { resolveScope } from './scope.ts';

export function completeItem(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const startedCpu = cpuNowMs();
    const body = parseOr(CompleteRequest, await readJsonBody(c, deps.env.ingestMaxBytes));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const entries = await prepareResults(deps.sql, [{ item_id: body.item_id, result: body.result, at: 'result' }], identifyBudget(deps.env, startedCpu));
    const [o] = await withCaller(deps.sql, claims, async (tx) => {
      const [one] = await completeResults(tx, claims, scope, body.runner_id, entries);
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
      return [one];
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    const response: CompleteResponse = {
      item_id: o.item_id,
      status: 'completed',
      calculation_id: o.calculation_id!,
      molecule_id: o.molecule_id!,
      outcome: o.stored ?? 'duplicate',
      already_completed: o.outcome === 'already_completed',
    };
    return c.json(response, 200);
  };
}
