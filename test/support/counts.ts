// Row counts of everything a user owns, in one round trip: to prove that a rejected request changed
// nothing, or that two ways of storing the same data stored the same rows.
import type postgres from 'postgres';
import { adminSql } from './db.ts';

export const TABLES = ['molecules', 'calculations', 'atomic_properties', 'batch_jobs', 'batch_items', 'event_logs'] as const;
export type Counts = Record<(typeof TABLES)[number], number>;

export interface CountOptions {
  /** The database's owner connection; the shared test stack's unless given. */
  sql?: postgres.Sql;
  /**
   * Leave out the ingest requests' own timing events (performance_metric, one per request however
   * many items it held), so that uploads of the same jobs in other request sizes compare equal.
   */
  withoutTimingEvents?: boolean;
}

export async function userCounts(userId: string, opts: CountOptions = {}): Promise<Counts> {
  const sql = opts.sql ?? adminSql();
  const counts = TABLES.map((table) => {
    const timing = table === 'event_logs' && opts.withoutTimingEvents ? sql`and event_type <> 'performance_metric'` : sql``;
    return sql`(select count(*) from public.${sql(table)} where user_id = ${userId} ${timing})::int as ${sql(table)}`;
  });
  const [row] = await sql`select ${counts.reduce((a, b) => sql`${a}, ${b}`)}`;
  return { ...row } as Counts;
}
