// POST /batches/complete-many: up to 100 results of one runner in one transaction, each with its
// own outcome (completed, already_completed, not_found, not_held, invalid) as ingest answers per
// calculation. Items that are not completed get nothing written. Fewer, larger transactions are
// what lets a fleet complete small items quickly: each commit costs a disk flush, and every
// completion of a batch updates its one counter row.
import type { Context } from 'hono';
import { COMPLETE_OUTCOMES, CompleteManyRequest, type CompleteManyResponse } from '../../../shared/contract/batches.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { cpuNowMs, identifyBudget } from '../_shared/molecules.ts';
import { completeResults, prepareResults } from './complete-results.ts';
import { resolveScope } from './scope.ts';

export function completeMany(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const startedCpu = cpuNowMs();
    const body = parseOr(CompleteManyRequest, await readJsonBody(c, deps.env.ingestMaxBytes));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const entries = await prepareResults(
      deps.sql,
      body.items.map((it, i) => ({ item_id: it.item_id, result: it.result, at: `items[${i}].result` })),
      identifyBudget(deps.env, startedCpu),
    );
    const results = await withCaller(deps.sql, claims, (tx) => completeResults(tx, claims, scope, body.runner_id, entries),
      { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    const counts = Object.fromEntries(COMPLETE_OUTCOMES.map((k) => [k, 0])) as CompleteManyResponse['counts'];
    for (const r of results) counts[r.outcome]++;
    const response: CompleteManyResponse = { results, counts };
    return c.json(response, 200);
  };
}
