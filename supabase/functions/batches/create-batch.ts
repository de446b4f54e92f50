// POST /batches: checks every item first and writes nothing unless all are valid; then creates the
// batch, its new molecules and its items with one call of public.create_batch, in one transaction.
import { CreateBatchRequest, type CreateBatchResponse } from '../../../shared/contract/batches.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { parseBody } from '../_shared/params.ts';
import { checkMoleculeRefs, prepareBatchItems } from './prepare-batch-items.ts';
import { selectBatch } from './rows.ts';

export async function createBatch(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, CreateBatchRequest, c.var.env.ingestMaxBytes);
  const prepared = await prepareBatchItems(c.var.identify, body.items);
  const batch = {
    name: body.name, method: body.method, task: body.task, solvent: body.solvent, max_attempts: body.max_attempts,
    priority: body.priority, tags: body.tags, xtb_args: body.xtb_args, metadata: body.metadata,
  };
  const response = await c.var.db(async (tx): Promise<CreateBatchResponse> => {
    await checkMoleculeRefs(tx, prepared);
    const [created] = await tx<{ batch_id: string; items: number; molecules: number; molecules_created: number }[]>`
      select batch_id, items, molecules, molecules_created
        from public.create_batch(${tx.json(batch as never)}::jsonb,
                                 ${tx.json([...prepared.molecules.values()] as never)}::jsonb,
                                 ${tx.json(prepared.items as never)}::jsonb)`;
    const { batch_id, ...counts } = created;
    return { batch: (await selectBatch(tx, batch_id))!, counts };
  });
  return c.json(response, 201);
}
