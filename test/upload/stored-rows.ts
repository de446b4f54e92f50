// What an upload stored for a user, in a form two runs can be compared by: row counts per table
// (without the ingest requests' own timing events, one per request however many), and each
// calculation's identity and values.
import type postgres from 'postgres';

export async function dataCounts(sql: postgres.Sql, userId: string): Promise<Record<string, number>> {
  const [row] = await sql`
    select (select count(*) from public.molecules where user_id = ${userId})::int as molecules,
           (select count(*) from public.calculations where user_id = ${userId})::int as calculations,
           (select count(*) from public.atomic_properties where user_id = ${userId})::int as atomic_properties,
           (select count(*) from public.batch_jobs where user_id = ${userId})::int as batch_jobs,
           (select count(*) from public.batch_items where user_id = ${userId})::int as batch_items,
           (select count(*) from public.event_logs
             where user_id = ${userId} and event_type <> 'performance_metric')::int as event_logs`;
  return { ...row };
}

export function identities(sql: postgres.Sql, userId: string) {
  return sql`
    select m.inchikey, c.method, c.task, c.solvent, c.charge, c.multiplicity, c.geometry_sha256, c.status, c.total_energy_eh,
           (select count(*)::int from public.atomic_properties a where a.calculation_id = c.id) as atoms
      from public.calculations c join public.molecules m on m.id = c.molecule_id
     where c.user_id = ${userId}
     order by c.geometry_sha256, c.method, c.task`;
}
