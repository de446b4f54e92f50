// POST /batches/complete-many: up to 100 results of one runner in one transaction, each with its
// own outcome (completed, already_completed, not_found, not_held, invalid) as ingest answers per
// calculation. Items that are not completed get nothing written. Fewer, larger transactions are
// what lets a fleet complete small items quickly: each commit costs a disk flush, and every
// completion of a batch updates its one counter row.
import { COMPLETE_OUTCOMES, CompleteManyRequest, type CompleteManyResponse } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { parseBody } from '../_shared/params.ts';
import { completeResults, prepareResults } from './complete-results.ts';

export async function completeMany(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, CompleteManyRequest, c.var.env.ingestMaxBytes);
  const entries = await prepareResults(
    c.var.identify,
    body.items.map((it, i) => ({ item_id: it.item_id, result: it.result, at: `items[${i}].result` })),
  );
  const results = await c.var.db((tx) => completeResults(tx, c.var.claims, ownerOf(c), body.runner_id, entries));
  const counts = Object.fromEntries(COMPLETE_OUTCOMES.map((k) => [k, 0])) as CompleteManyResponse['counts'];
  for (const r of results) counts[r.outcome]++;
  const response: CompleteManyResponse = { results, counts };
  return c.json(response, 200);
}
