// POST /batches/fail: records a failed attempt with public.fail_batch_item. The item goes back to
// pending while attempts remain and the error class is retryable (all but invalid_input), and
// fails for good otherwise. Only the runner that holds the item may report it (409 otherwise).
import type { Context } from 'hono';
import { FailRequest, type FailResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { SMALL_BODY_BYTES } from './params.ts';
import { resolveScope } from './scope.ts';

interface FailRow {
  outcome: 'recorded' | 'already_recorded' | 'not_found' | 'not_held';
  status: FailResponse['status'] | 'claimed' | 'completed' | null;
  attempts: number | null;
  max_attempts: number | null;
  claimed_by: string | null;
}

export function failItem(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const body = parseOr(FailRequest, await readJsonBody(c, SMALL_BODY_BYTES));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const itemId = body.item_id.toLowerCase();
    const [row] = await withCaller(deps.sql, claims, (tx) => tx<FailRow[]>`
      select * from public.fail_batch_item(${itemId}, ${body.runner_id}, ${body.error_class}, ${body.message}, ${scope.allUsers})`,
    { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });

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
  };
}
