// GET /batches/:id: one batch with its progress and a page of its items (creation order), which
// may be filtered by item status.
import type { Context } from 'hono';
import { GetBatchQuery, type GetBatchResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { badRequest, notFound } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';
import { batchIdParam } from './params.ts';
import { selectBatch, selectItems, toItem } from './rows.ts';
import { resolveScope } from './scope.ts';

export function getBatch(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = batchIdParam(c);
    const query = parseOr(GetBatchQuery, c.req.query(), 'query');
    if (query.cursor !== undefined && !/^\d{1,19}$/.test(query.cursor)) {
      throw badRequest('cursor: not a cursor from an earlier page', [{ path: 'cursor', issue: 'not a cursor from an earlier page' }]);
    }
    const claims = c.get('claims');
    const scope = resolveScope(claims, query, 'query');
    const response = await withCaller(deps.sql, claims, async (tx) => {
      const batch = await selectBatch(tx, id);
      if (!batch) throw notFound('batch');
      const rows = await selectItems(tx, {
        owner: batch.user_id, batchId: id, status: query.status, afterSeq: query.cursor, limit: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const result: GetBatchResponse = {
        batch,
        items: page.map(toItem),
        next_cursor: rows.length > query.limit ? page[page.length - 1].seq : null,
      };
      return result;
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 200);
  };
}
