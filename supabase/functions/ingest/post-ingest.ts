// POST /ingest: validates every item on its own, stores the valid ones in one transaction, and
// answers with one outcome per item, in order. Rejected items never stop the valid ones; a write
// failure rolls the whole request back so the client can retry it as is. Items whose molecule the
// request's RDKit budget could not reach answer `deferred`: the typed client sends them again.
import type { Context } from 'hono';
import { IngestRequest, type IngestItemResult, type IngestResponse } from '../../../shared/contract/ingest.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller, type Tx } from '../_shared/db.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { cpuNowMs, identifyBudget } from '../_shared/molecules.ts';
import { isDeferred, isRejected, prepareItems, type PreparedItem } from '../_shared/prepare-calculation.ts';
import { storeItems } from '../_shared/store-calculations.ts';

export function postIngest(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const startedCpu = cpuNowMs();
    const started = performance.now();
    const body = parseOr(IngestRequest, await readJsonBody(c, deps.env.ingestMaxBytes));
    if (body.calculations.length > deps.env.ingestMaxItems) {
      throw new ApiError(413, ErrorCode.payloadTooLarge,
        `calculations: ${body.calculations.length} items; at most ${deps.env.ingestMaxItems} per request`);
    }
    const claims = c.get('claims');
    const owner = resolveOwner(claims, body.user_id);

    const results: IngestItemResult[] = new Array(body.calculations.length);
    const valid: PreparedItem[] = [];
    for (const item of await prepareItems(deps.sql, body.calculations, identifyBudget(deps.env, startedCpu), deps.env.ingestMaxAtoms)) {
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
      await withCaller(deps.sql, claims, async (tx) => {
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
          results[row.idx] = { index: row.idx, outcome: row.outcome, calculation_id: row.calculation_id, molecule_id: row.molecule_id };
          atoms += row.atoms_written;
        }
        await tx`select public.log_performance_metric(${tx.json({
          route: 'ingest', items: body.calculations.length, stored: writable.length, atoms,
          ms: Math.round(performance.now() - started),
          prepare_ms: Math.round(prepareMs),
          store_ms: Math.round(performance.now() - storing),
        })}::jsonb)`;
      }, { actAs: owner, statementTimeoutMs: deps.env.statementTimeoutMs });
    }

    const counts = { created: 0, duplicate: 0, updated: 0, rejected: 0, deferred: 0 };
    for (const r of results) counts[r.outcome]++;
    const response: IngestResponse = { results, counts, atoms_written: atoms, ms: Math.round(performance.now() - started) };
    return c.json(response, 200);
  };
}

/** Batch items named by the request that the caller cannot see (absent, or another user's). */
async function unknownBatchItems(tx: Tx, items: PreparedItem[]): Promise<Set<number>> {
  const wanted = items.filter((i) => i.calc.batch_item_id);
  if (wanted.length === 0) return new Set();
  const ids = [...new Set(wanted.map((i) => i.calc.batch_item_id!))];
  const found = new Set((await tx<{ id: string }[]>`select id from public.batch_items where id = any(${ids}::uuid[])`).map((r) => r.id));
  return new Set(wanted.filter((i) => !found.has(i.calc.batch_item_id!)).map((i) => i.index));
}
