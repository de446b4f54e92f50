// POST /batches: checks every item first and writes nothing unless all are valid; then creates the
// batch, its new molecules and its items with one call of public.create_batch, in one transaction.
import type { Context } from 'hono';
import { CreateBatchRequest, type CreateBatchResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { cpuNowMs, identifyBudget } from '../_shared/molecules.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { checkMoleculeRefs, invalidItems, prepareBatchItems } from './prepare-batch-items.ts';
import { selectBatch } from './rows.ts';

export function createBatch(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const startedCpu = cpuNowMs();
    const body = parseOr(CreateBatchRequest, await readJsonBody(c, deps.env.ingestMaxBytes));
    const claims = c.get('claims');
    const owner = resolveOwner(claims, body.user_id);
    const prepared = await prepareBatchItems(deps.sql, body.items, identifyBudget(deps.env, startedCpu));
    if (prepared.errors.length) throw invalidItems(prepared.errors, body.items.length);

    const response = await withCaller(deps.sql, claims, async (tx) => {
      await checkMoleculeRefs(tx, prepared, body.items.length);
      const batch = {
        name: body.name, method: body.method, task: body.task, solvent: body.solvent,
        max_attempts: body.max_attempts, priority: body.priority, tags: body.tags,
        xtb_args: body.xtb_args, metadata: body.metadata,
      };
      const [created] = await tx<{ batch_id: string; items: number; molecules: number; molecules_created: number }[]>`
        select batch_id, items, molecules, molecules_created
          from public.create_batch(${tx.json(batch as never)}::jsonb,
                                   ${tx.json([...prepared.molecules.values()] as never)}::jsonb,
                                   ${tx.json(prepared.items as never)}::jsonb)`;
      const result: CreateBatchResponse = {
        batch: (await selectBatch(tx, created.batch_id))!,
        counts: { items: created.items, molecules: created.molecules, molecules_created: created.molecules_created },
      };
      return result;
    }, { actAs: owner, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 201);
  };
}
