// What an upload stored for a user, in a form two runs can be compared by: each calculation's
// identity and values (row counts are userCounts with withoutTimingEvents).
import type postgres from 'postgres';

export function identities(sql: postgres.Sql, userId: string) {
  return sql`
    select m.inchikey, c.method, c.task, c.solvent, c.charge, c.multiplicity, c.geometry_sha256, c.status, c.total_energy_eh,
           (select count(*)::int from public.atomic_properties a where a.calculation_id = c.id) as atoms
      from public.calculations c join public.molecules m on m.id = c.molecule_id
     where c.user_id = ${userId}
     order by c.geometry_sha256, c.method, c.task`;
}
