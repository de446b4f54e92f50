// POST /batches/:id/items: more items for an existing batch (a request carries at most 10,000),
// checked like creation's and written with one call of public.add_batch_items. A finished batch
// becomes running again; a cancelled one takes no items (409).
import type { Context } from 'hono';
import { AddItemsRequest, type CreateBatchResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { cpuNowMs, identifyBudget } from '../_shared/molecules.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { batchIdParam } from './params.ts';
import { checkMoleculeRefs, invalidItems, prepareBatchItems } from './prepare-batch-items.ts';
import { selectBatch } from './rows.ts';

export function addBatchItems(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const startedCpu = cpuNowMs();
    const id = batchIdParam(c);
    const body = parseOr(AddItemsRequest, await readJsonBody(c, deps.env.ingestMaxBytes));
    const claims = c.get('claims');
    const owner = resolveOwner(claims, body.user_id);
    const prepared = await prepareBatchItems(deps.sql, body.items, identifyBudget(deps.env, startedCpu));
    if (prepared.errors.length) throw invalidItems(prepared.errors, body.items.length);

    const response = await withCaller(deps.sql, claims, async (tx) => {
      await checkMoleculeRefs(tx, prepared, body.items.length);
      const [added] = await tx<{ outcome: string; items: number; molecules: number; molecules_created: number }[]>`
        select outcome, items, molecules, molecules_created
          from public.add_batch_items(${id}, ${tx.json([...prepared.molecules.values()] as never)}::jsonb,
                                      ${tx.json(prepared.items as never)}::jsonb)`;
      if (added.outcome === 'not_found') throw notFound('batch');
      if (added.outcome === 'cancelled') throw conflict('the batch is cancelled; it takes no new items');
      const result: CreateBatchResponse = {
        batch: (await selectBatch(tx, id))!,
        counts: { items: added.items, molecules: added.molecules, molecules_created: added.molecules_created },
      };
      return result;
    }, { actAs: owner, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 201);
  };
}
