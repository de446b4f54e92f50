// The counters of GET /query/stats, named once: the functions read them from public.database_stats
// by this list, and the DatabaseStats type of query.ts must name exactly these (checked below).
import type { DatabaseStats } from './query.ts';

export const STAT_NAMES = [
  'molecules', 'calculations_total', 'calculations_pending', 'calculations_running', 'calculations_completed',
  'calculations_failed', 'calculations_gfn2_xtb', 'calculations_gfn1_xtb', 'calculations_gfn0_xtb',
  'calculations_gfn_ff', 'atoms', 'batches_total', 'batches_pending', 'batches_running', 'batches_completed',
  'batches_failed', 'batches_cancelled', 'events_last_24h',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

// Fails to compile when the list and DatabaseStats disagree, in either direction. DatabaseStats
// can become `Record<StatName, number>` (or a zod object built from this list) in query.ts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statNamesMatch: Same<StatName, keyof DatabaseStats> = true;
void statNamesMatch;
