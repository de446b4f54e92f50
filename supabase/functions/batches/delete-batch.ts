// DELETE /batches/:id: removes a completed, failed or cancelled batch with its items. The
// calculations its items produced stay (their batch_item_id is set null by the foreign key); a
// pending or running batch is a 409, so no runner loses an item it holds.
import type { Context } from 'hono';
import { DeleteBatchQuery, type DeleteBatchResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';
import { batchIdParam } from './params.ts';
import { resolveScope } from './scope.ts';

export function deleteBatch(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = batchIdParam(c);
    const claims = c.get('claims');
    const scope = resolveScope(claims, parseOr(DeleteBatchQuery, c.req.query(), 'query'), 'query');
    const response = await withCaller(deps.sql, claims, async (tx): Promise<DeleteBatchResponse> => {
      const [batch] = await tx<{ status: string; total_items: number }[]>`
        select status, total_items from public.batch_jobs where id = ${id} for update`;
      if (!batch) throw notFound('batch');
      if (batch.status === 'pending' || batch.status === 'running') {
        throw conflict(`the batch is ${batch.status}; cancel it first (POST /batches/${id}/cancel)`);
      }
      await tx`delete from public.batch_jobs where id = ${id}`;
      return { deleted: { batches: 1, items: batch.total_items } };
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 200);
  };
}
