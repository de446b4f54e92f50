// GET /stats: the caller's database_stats row (trigger-kept counters) and the histograms of energy
// per atom and of the HOMO-LUMO gap (public.calculation_histograms, computed in SQL).
import { STAT_NAMES, StatsQuery, type DatabaseStats, type StatsResponse } from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { parseQuery } from '../_shared/params.ts';

export async function getStats(c: RequestContext): Promise<Response> {
  const q = parseQuery(c, StatsQuery);
  const [row, histograms] = await c.var.db(async (tx) => {
    // Row-level security leaves the caller's row only (none for a user with no data yet).
    const [stats] = await tx<Record<string, string>[]>`select * from public.database_stats`;
    const [h] = await tx<{ histograms: StatsResponse['histograms'] }[]>`
      select public.calculation_histograms(${q.bins}::int) as histograms`;
    return [stats, h.histograms] as const;
  });
  // bigint counters arrive as strings; they fit a JS number.
  const stats: DatabaseStats = Object.fromEntries(STAT_NAMES.map((k) => [k, Number(row?.[k] ?? 0)])) as DatabaseStats;
  const response: StatsResponse = { stats, histograms };
  return c.json(response, 200);
}
