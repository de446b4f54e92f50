// GET /stats: the caller's database_stats row (trigger-kept counters) and the histograms of energy
// per atom and of the HOMO-LUMO gap (public.calculation_histograms, computed in SQL).
import type { Context } from 'hono';
import { StatsQuery, type DatabaseStats, type StatsResponse } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseQuery } from './params.ts';

const STAT_KEYS: (keyof DatabaseStats)[] = [
  'molecules', 'calculations_total', 'calculations_pending', 'calculations_running', 'calculations_completed',
  'calculations_failed', 'calculations_gfn2_xtb', 'calculations_gfn1_xtb', 'calculations_gfn0_xtb',
  'calculations_gfn_ff', 'atoms', 'batches_total', 'batches_pending', 'batches_running', 'batches_completed',
  'batches_failed', 'batches_cancelled', 'events_last_24h',
];

export function getStats(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const q = parseQuery(StatsQuery, c);
    const claims = c.get('claims');
    const response = await withCaller(deps.sql, claims, async (tx) => {
      // Row-level security leaves the caller's row only (none for a user with no data yet).
      const [row] = await tx<Record<string, string>[]>`select * from public.database_stats`;
      const [{ histograms }] = await tx<{ histograms: StatsResponse['histograms'] }[]>`
        select public.calculation_histograms(${q.bins}::int) as histograms`;
      // bigint counters arrive as strings; they fit a JS number.
      const stats = Object.fromEntries(STAT_KEYS.map((k) => [k, Number(row?.[k] ?? 0)])) as unknown as DatabaseStats;
      const result: StatsResponse = { stats, histograms };
      return result;
    }, { actAs: resolveOwner(claims, q.user_id, 'query'), statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(response, 200);
  };
}
