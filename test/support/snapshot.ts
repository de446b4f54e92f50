// Row counts of everything a user owns, to prove that a rejected request changed nothing.
import { adminSql } from './db.ts';

export const TABLES = [
  'molecules', 'calculations', 'atomic_properties', 'batch_jobs', 'batch_items', 'event_logs', 'specifications', 'calculation_provenance',
] as const;

export async function userCounts(userId: string): Promise<Record<string, number>> {
  const sql = adminSql();
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const [row] = await sql`select count(*)::int as n from ${sql('public')}.${sql(table)} where user_id = ${userId}`;
    out[table] = row.n;
  }
  return out;
}
