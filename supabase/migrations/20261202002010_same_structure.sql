-- Same structure, found: a key of a calculation's input geometry that does not depend on its
-- frame (rotation, translation) or on the order of its atoms, and the mark it leads to.
--
-- Why: the identity hashes the ordered coordinates in the input frame, so the same conformer
-- rotated, or with its atoms listed in another order, is a new calculation and nothing said it
-- was the same structure. A training set then counts it twice.
--
--   calculations.structure_distances  the structure key: every interatomic distance of the input
--                                     geometry (Å, as real), grouped by element pair (pairs in
--                                     alphabetical order, e.g. C-C, C-H, C-O, H-H, H-O) and sorted
--                                     within each group. Written by ingest (the function computes
--                                     it in shared/structure-key.ts); null for a geometry of more
--                                     than 100 atoms and for rows stored before this migration.
--   calculations.structure_fingerprint the sum of those distances, and structure_extent the largest
--   calculations.structure_extent      (both computed here from the array): numbers the same
--                                     structure shares within count × tolerance and within the
--                                     tolerance, so candidates are one index range, not every
--                                     conformer.
--   calculations.same_structure_as    set when the structure was already stored under the same
--                                     specification, molecule, charge and multiplicity: the id of
--                                     that first row (the representative). Not part of the
--                                     identity: both rows are kept. Null = this row is the first
--                                     of its structure (`unique_structures=true`).
--
-- Two structures are the same when the distance lists have the same length and no distance
-- differs by more than public.same_structure_tolerance_ang() = 0.001 Å. Comparing sorted lists
-- element-wise is the best matching of two sets of distances on a line, so this is exactly "there
-- is a pairing of the distances that agrees within the tolerance". Like every distance-based key it
-- cannot tell mirror images apart (for an achiral molecule they have the same energy).
--
-- When a representative is deleted, the rows that pointed at it point at the oldest of them,
-- which becomes the representative (trigger calculations_repoint_same_structure). The foreign
-- key is deferred so that this happens before it is checked.

-- Two functions of one form (sum, max), not one: each generates its own column (calculations below).
create function public.structure_fingerprint(p_distances real[])
  returns double precision
  language sql immutable strict parallel safe set search_path = ''
as $$
  select coalesce(sum(d::double precision), 0) from pg_catalog.unnest(p_distances) as d
$$;

comment on function public.structure_fingerprint(real[]) is
  'The sum of a structure key''s distances (Å): equal within count × tolerance for the same structure.';

create function public.structure_extent(p_distances real[])
  returns double precision
  language sql immutable strict parallel safe set search_path = ''
as $$
  select coalesce(max(d::double precision), 0) from pg_catalog.unnest(p_distances) as d
$$;

comment on function public.structure_extent(real[]) is
  'The largest distance of a structure key (Å): equal within the tolerance for the same structure.';

create function public.same_structure_tolerance_ang()
  returns double precision
  language sql immutable parallel safe set search_path = ''
as $$
  select 0.001::double precision
$$;

comment on function public.same_structure_tolerance_ang() is
  'How far (Å) any interatomic distance of two structures may differ for them to be the same structure.';

create function public.same_structure(p_a real[], p_b real[])
  returns boolean
  language sql immutable parallel safe set search_path = ''
  -- Dear on purpose: the planner then tests it after the cheap conditions (the fingerprint range).
  cost 10000
as $$
  select cardinality(p_a) = cardinality(p_b)
     and coalesce((select max(abs(x::double precision - y::double precision))
                     from unnest(p_a, p_b) as u(x, y)), 0) <= public.same_structure_tolerance_ang()
$$;

comment on function public.same_structure(real[], real[]) is
  'True when two structure keys (sorted distances per element pair) agree within public.same_structure_tolerance_ang().';

create function public.same_structure_window(p_distances real[])
  returns double precision
  language sql immutable parallel safe set search_path = ''
as $$
  -- Keys that agree within the tolerance per distance have sums within count × tolerance.
  select coalesce(cardinality(p_distances), 0) * public.same_structure_tolerance_ang() + 1e-9
$$;

comment on function public.same_structure_window(real[]) is
  'How far the fingerprint (distance sum) of a structure with these distances may be from that of the same structure.';

alter table public.calculations
  add column structure_distances   real[],
  add column structure_fingerprint double precision
    generated always as (public.structure_fingerprint(structure_distances)) stored,
  add column structure_extent      double precision
    generated always as (public.structure_extent(structure_distances)) stored,
  add column same_structure_as     uuid,
  add constraint calculations_structure_distances_vector
    check (cardinality(structure_distances) = 0
           or (array_ndims(structure_distances) = 1 and array_position(structure_distances, null) is null
               and 0 <= all (structure_distances) and 'infinity' > all (structure_distances))),
  add constraint calculations_same_structure_not_self check (same_structure_as <> id),
  add constraint calculations_same_structure_fkey foreign key (user_id, same_structure_as)
    references public.calculations (user_id, id) deferrable initially deferred;

comment on column public.calculations.structure_distances is
  'Structure key of the input geometry: interatomic distances (Å) grouped by element pair, sorted; null above 100 atoms.';
comment on column public.calculations.structure_fingerprint is
  'Sum of structure_distances (Å): the same structure''s is within count × tolerance.';
comment on column public.calculations.structure_extent is
  'Largest of structure_distances (Å): the same structure''s is within the tolerance; the index range searched.';
comment on column public.calculations.same_structure_as is
  'The first stored calculation with the same structure, specification, molecule, charge and multiplicity; '
  'null when this is the first (unique_structures=true keeps those).';

-- The group a structure is compared within: molecule, specification, charge and multiplicity, as
-- one value (their fixed-width binary forms, so equal bytes are equal columns). The lookups compare
-- this value, not the four columns: a user's first large upload is not yet in the statistics, so
-- any index that starts with user_id and holds one of those columns (the identity, the
-- specification's) looked as cheap as the structure index, and the planner chose one and filtered
-- every stored conformer of the specification for each new row (bench:ingest, 20,000 conformers:
-- each request slower than the last, then 504s). Only calculations_structure_idx holds this value.
create function public.structure_group(p_molecule_id uuid, p_specification_id uuid, p_charge integer, p_multiplicity integer)
  returns bytea
  language sql immutable parallel safe set search_path = ''
as $$
  select uuid_send(p_molecule_id) || uuid_send(p_specification_id) || int4send(p_charge) || int4send(p_multiplicity)
$$;

comment on function public.structure_group(uuid, uuid, integer, integer) is
  'The group within which structures are compared (molecule, specification, charge, multiplicity) as one bytea: '
  'the key of calculations_structure_idx.';

-- The candidates of a new row: the representatives (rows not marked) of the same group whose
-- largest distance is within the tolerance (the index range) and whose distance sum is within
-- count × tolerance (checked on the index entries), before any key is compared. Measured on 1,000 new random water geometries against 1,000 stored: with the
-- sum alone as the range, 70,000 key comparisons (2.2 s); the largest distance is far more
-- selective because its window does not grow with the number of distances. Marked rows are left
-- out of the index: a conformer sweep that repeats one structure thousands of times keeps one
-- entry for it (2,500 copies of one structure in one request took over 180 s with every row indexed).
create index calculations_structure_idx
  on public.calculations (user_id, public.structure_group(molecule_id, specification_id, charge, multiplicity),
                          structure_extent, structure_fingerprint)
  where structure_fingerprint is not null and same_structure_as is null;

-- Foreign key (user_id, same_structure_as): the rows that point at a deleted representative.
create index calculations_user_id_same_structure_as_idx
  on public.calculations (user_id, same_structure_as)
  where same_structure_as is not null;

-- ---------------------------------------------------------------------------------------------
-- A deleted representative hands its role to the oldest remaining row of its structure
-- ---------------------------------------------------------------------------------------------
create function public.calculations_repoint_same_structure()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  with orphaned as (
    select k.id, k.same_structure_as as gone, k.created_at
      from public.calculations k
      join old_rows d on d.user_id = k.user_id and d.id = k.same_structure_as
  ),
  heir as (
    select distinct on (o.gone) o.gone, o.id
      from orphaned o
     order by o.gone, o.created_at, o.id
  )
  update public.calculations k
     set same_structure_as = case when k.id = h.id then null else h.id end
    from orphaned o
    join heir h on h.gone = o.gone
   where k.id = o.id;
  return null;
end;
$$;

comment on function public.calculations_repoint_same_structure() is
  'AFTER DELETE statement trigger: rows marked same_structure_as a deleted calculation point at the oldest of them '
  'instead, and that one becomes the representative.';

select public.create_statement_triggers('public.calculations', 'public.calculations_repoint_same_structure', '{delete}');

revoke execute on function public.structure_fingerprint(real[]), public.structure_extent(real[]),
  public.same_structure_tolerance_ang(), public.same_structure_window(real[]), public.same_structure(real[], real[]),
  public.structure_group(uuid, uuid, integer, integer)
  from public, anon, authenticated;
grant execute on function public.structure_fingerprint(real[]), public.structure_extent(real[]),
  public.same_structure_tolerance_ang(), public.same_structure_window(real[]), public.same_structure(real[], real[]),
  public.structure_group(uuid, uuid, integer, integer)
  to qf_api, service_role;
