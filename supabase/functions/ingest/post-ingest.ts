// POST /ingest: validates every item on its own, stores the valid ones in one transaction, and
// answers with one outcome per item, in order. Rejected items never stop the valid ones; a write
// failure rolls the whole request back so the client can retry it as is. Items whose molecule the
// request's RDKit budget could not reach answer `deferred`: the typed client sends them again.
import { IngestRequest, type IngestItemResult, type IngestResponse } from '../../../shared/contract/ingest.ts';
import type { RequestContext } from '../_shared/caller.ts';
import type { Tx } from '../_shared/db.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import { parseBody } from '../_shared/params.ts';
import { isDeferred, isRejected, prepareItems, type PreparedItem } from '../_shared/prepare-calculation.ts';
import { storeItems } from '../_shared/store-calculations.ts';

export async function postIngest(c: RequestContext): Promise<Response> {
  const started = performance.now();
  const { env } = c.var;
  const body = await parseBody(c, IngestRequest, env.ingestMaxBytes);
  if (body.calculations.length > env.ingestMaxItems) {
    throw new ApiError(413, ErrorCode.payloadTooLarge,
      `calculations: ${body.calculations.length} items; at most ${env.ingestMaxItems} per request`);
  }

  const results: IngestItemResult[] = new Array(body.calculations.length);
  const valid: PreparedItem[] = [];
  for (const item of await prepareItems(c.var.identify, body.calculations, env.ingestMaxAtoms)) {
    const i = item.index;
    if (isRejected(item)) {
      results[i] = { index: i, outcome: 'rejected', calculation_id: null, molecule_id: null, errors: item.errors };
    } else if (isDeferred(item)) {
      results[i] = { index: i, outcome: 'deferred', calculation_id: null, molecule_id: null, errors: item.deferred };
    } else {
      valid.push(item);
    }
  }

  const prepareMs = performance.now() - started;
  let atoms = 0;
  if (valid.length > 0) {
    await c.var.db(async (tx) => {
      const foreign = await unknownBatchItems(tx, valid);
      const writable = valid.filter((v) => !foreign.has(v.index));
      for (const index of foreign) {
        results[index] = {
          index, outcome: 'rejected', calculation_id: null, molecule_id: null,
          errors: [{ path: `calculations[${index}].batch_item_id`, issue: 'no such batch item' }],
        };
      }
      if (writable.length === 0) return;
      const storing = performance.now();
      for (const row of await storeItems(tx, writable)) {
        results[row.idx] = {
          index: row.idx, outcome: row.outcome, calculation_id: row.calculation_id, molecule_id: row.molecule_id,
          specification_hash: row.specification_hash, same_structure_as: row.same_structure_as,
        };
        atoms += row.atoms_written;
      }
      await tx`select public.log_performance_metric(${tx.json({
        route: 'ingest', items: body.calculations.length, stored: writable.length, atoms,
        ms: Math.round(performance.now() - started),
        prepare_ms: Math.round(prepareMs),
        store_ms: Math.round(performance.now() - storing),
      })}::jsonb)`;
    });
  }

  const counts = { created: 0, duplicate: 0, updated: 0, rejected: 0, deferred: 0 };
  for (const r of results) counts[r.outcome]++;
  const response: IngestResponse = { results, counts, atoms_written: atoms, ms: Math.round(performance.now() - started) };
  return c.json(response, 200);
}

/** Batch items named by the request that the caller cannot see (absent, or another user's). */
async function unknownBatchItems(tx: Tx, items: PreparedItem[]): Promise<Set<number>> {
  const wanted = items.filter((i) => i.calc.batch_item_id);
  if (wanted.length === 0) return new Set();
  const ids = [...new Set(wanted.map((i) => i.calc.batch_item_id!))];
  const found = new Set((await tx<{ id: string }[]>`select id from public.batch_items where id = any(${ids}::uuid[])`).map((r) => r.id));
  return new Set(wanted.filter((i) => !found.has(i.calc.batch_item_id!)).map((i) => i.index));
}
