// POST /batches/:id/items: more items for an existing batch (a request carries at most 10,000),
// checked like creation's and written with one call of public.add_batch_items. A finished batch
// becomes running again; a cancelled one takes no items (409).
import { AddItemsRequest, type CreateBatchResponse } from '../../../shared/contract/batches.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseBody, uuidParam } from '../_shared/params.ts';
import { checkMoleculeRefs, prepareBatchItems } from './prepare-batch-items.ts';
import { selectBatch } from './rows.ts';

export async function addBatchItems(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const body = await parseBody(c, AddItemsRequest, c.var.env.ingestMaxBytes);
  const prepared = await prepareBatchItems(c.var.identify, body.items);
  const response = await c.var.db(async (tx): Promise<CreateBatchResponse> => {
    await checkMoleculeRefs(tx, prepared);
    const [{ outcome, ...counts }] = await tx<{ outcome: string; items: number; molecules: number; molecules_created: number }[]>`
      select outcome, items, molecules, molecules_created
        from public.add_batch_items(${id}, ${tx.json([...prepared.molecules.values()] as never)}::jsonb,
                                    ${tx.json(prepared.items as never)}::jsonb)`;
    if (outcome === 'not_found') throw notFound('batch');
    if (outcome === 'cancelled') throw conflict('the batch is cancelled; it takes no new items');
    return { batch: (await selectBatch(tx, id))!, counts };
  });
  return c.json(response, 201);
}
