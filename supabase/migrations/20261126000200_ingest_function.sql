-- Ingest: stores a request's calculations, their molecules and their atoms in one call, so that a
-- request is one transaction and one round trip. Runs as the caller (security invoker): RLS and
-- the table grants apply exactly as for any other statement of that user.
--
-- Idempotency: molecules are unique per (user_id, molecule_key) and calculations per their identity
-- (user, molecule, specification, charge, multiplicity, geometry hash; docs/specifications.md). A second POST of
-- the same result finds the existing row and writes nothing. A `running` registration is later
-- completed in place; a completed result supersedes a failed one (a retry); otherwise the stored
-- row wins and the item is a duplicate.
--
-- Each statement below is separate on purpose: under READ COMMITTED, a statement sees rows that
-- concurrent transactions committed while this one waited on a unique index, so the look-ups
-- after each `on conflict do nothing` find the winner's row instead of missing it.
--
-- The tables public.specifications and public.calculation_provenance, calculations.specification_id
-- and the same-structure functions are created by the migrations 20261202002000..2020; PL/pgSQL
-- resolves them when the function first runs, so defining it here is fine.
--
-- Parameters beyond the atom columns:
--   p_calculations   the items; new fields: xtb_args (the words of the run's command line,
--                    specification), structure_offset and structure_count (where the item's
--                    structure key sits in p_structure; null without one).
--   p_structure      every item's structure key, back to back (shared/structure-key.ts), passed as
--                    one float8[] because a jsonb array of numbers per item costs a numeric parse
--                    per value in each of the statements that read the items.
--   p_provenance     [{idx, command, xtb_version, parser_version, files, input_xyz,
--                    raw_output_base64, raw_output_sha256, raw_output_bytes}], read once.
--
-- Steps (each its own statement, see above):
--   1. molecules;  2. specifications, one per distinct specification, in hash order;
--   3. calculations whose identity is new, marked when their structure is stored;  4. the stored
--   row of every other item, found through calculations_identity_key (no nullable column in it but
--   the geometry hash, which ingest always sets, so one probe);  5. rows moved forward;  6. marks
--   among the request's new rows;  7. atoms;  8. provenance;  9. one answer per item.
--
-- Same structure (steps 3 and 6): a new row with a structure key is compared with the
-- representatives (unmarked rows) of its group (public.structure_group: molecule, specification,
-- charge and multiplicity, compared as that one value so that only calculations_structure_idx can
-- serve the lookup) whose largest distance and distance sum are within reach (one range of it),
-- then key against key (public.same_structure). It is inserted pointing at the oldest stored representative
-- that matches; rows of a structure new to the store are then grouped within the request, under
-- the one with the smallest id. Two concurrent requests that bring the same new structure may
-- both leave it unmarked.
-- The two lookups are written out, each a lateral subquery, and not one function called per row:
-- a SQL function with `set search_path` is never inlined, so each call starts an executor and
-- evaluates the bounds again. Tried as public.same_structure_representative(user, group,
-- distances, below), bench:ingest (20,000 conformers) took 36.1 and 39.0 s against 31.2 and
-- 25.8 s for these subqueries, run in alternation on one machine (2 cores, load 1.3 to 2.8).

-- One ingest item as the function receives it (a jsonb array of these): the molecule's identity
-- computed by the caller with RDKit, then the calculation's columns.
create type public.ingest_item as (
  idx int, inchikey text, molecule_key text, canonical_smiles text, formula text, name text, input_smiles text, n_atoms int,
  method text, task text, solvent text, charge int, multiplicity int, geometry_sha256 text, status text,
  total_energy_eh float8, homo_lumo_gap_ev float8, dipole_debye float8, dipole_au float8[], converged boolean,
  gradient_norm_eh_bohr float8, wall_time_s float8, xtb_version text, batch_item_id uuid, source text,
  tags text[], metadata jsonb, error_message text, started_at timestamptz, completed_at timestamptz,
  xtb_args text[], structure_offset int, structure_count int
);

create function public.ingest_calculations(
  p_calculations jsonb,
  p_atom_calc int[],
  p_atom_index int[],
  p_element text[],
  p_atomic_number int[],
  p_x_ang float8[],
  p_y_ang float8[],
  p_z_ang float8[],
  p_partial_charge_e float8[],
  p_grad_x_eh_bohr float8[],
  p_grad_y_eh_bohr float8[],
  p_grad_z_eh_bohr float8[],
  p_structure float8[] default '{}',
  p_provenance jsonb default '[]'
)
returns table (idx int, outcome text, calculation_id uuid, molecule_id uuid, atoms_written int,
               specification_hash text, same_structure_as uuid)
  language plpgsql security invoker set search_path = ''
as $$
-- The output columns (idx, calculation_id, molecule_id, …) share names with table columns.
#variable_conflict use_column
declare
  v_user uuid := (select auth.uid());
  v_spec_idx int[];
  v_spec jsonb[];
  v_distinct_spec jsonb[];
  v_distinct_hash text[];
  v_spec_id uuid[];
  v_created_idx int[];
  v_created_id uuid[];
  v_updated_idx int[];
  v_updated_id uuid[];
  v_found_idx int[];
  v_found_id uuid[];
begin
  if v_user is null then
    raise exception 'ingest_calculations needs a user (auth.uid() is null)' using errcode = '28000';
  end if;

  -- 1. Molecules, by molecule_key (the fixed-H InChIKey). First a row written without a key is
  --    adopted when this request brings its molecule (same standard InChIKey, same canonical
  --    SMILES); then the new ones are inserted, in key order so concurrent requests lock alike.
  perform public.adopt_legacy_molecules(v_user, p_calculations);

  insert into public.molecules (user_id, canonical_smiles, inchikey, molecule_key, formula, name, input_smiles, n_atoms)
  select distinct on (c.molecule_key) v_user, c.canonical_smiles, c.inchikey, c.molecule_key, c.formula, c.name, c.input_smiles, c.n_atoms
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
   order by c.molecule_key, c.idx
  on conflict (user_id, molecule_key) do nothing;

  -- 2. Specifications: computed once per distinct (method, task, solvent, xtb_args) and hashed
  --    once per distinct specification (a request usually has one or two); the new ones are
  --    inserted in hash order, so concurrent requests lock alike.
  with settings as (
    select c.idx, c.method, c.task, c.solvent, coalesce(c.xtb_args, '{}') as args
      from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
  ),
  distinct_settings as materialized (
    select d.method, d.task, d.solvent, d.args, public.xtb_specification(d.method, d.task, d.solvent, d.args) as spec
      from (select distinct s.method, s.task, s.solvent, s.args from settings s) d
  )
  select coalesce(array_agg(s.idx order by s.idx), '{}'), coalesce(array_agg(d.spec order by s.idx), '{}')
    into v_spec_idx, v_spec
    from settings s
    join distinct_settings d
      on d.method = s.method and d.task = s.task and d.solvent is not distinct from s.solvent and d.args = s.args;

  select coalesce(array_agg(d.spec order by d.hash), '{}'), coalesce(array_agg(d.hash order by d.hash), '{}')
    into v_distinct_spec, v_distinct_hash
    from (select x.spec, public.specification_hash(x.spec) as hash
            from (select distinct u.spec from unnest(v_spec) as u(spec)) x) d;

  insert into public.specifications (user_id, spec)
  select v_user, d.spec from unnest(v_distinct_spec) with ordinality as d(spec, ord) order by d.ord
  on conflict (user_id, spec_hash) do nothing;

  select coalesce(array_agg(p.id order by u.ord), '{}')
    into v_spec_id
    from unnest(v_spec) with ordinality as u(spec, ord)
    join unnest(v_distinct_spec, v_distinct_hash) as d(spec, hash) on d.spec = u.spec
    join public.specifications p on p.user_id = v_user and p.spec_hash = d.hash;

  -- 3. Calculations: insert those whose identity is new; the first item of a repeated identity wins.
  --    A new row whose structure is already stored is inserted marked: same_structure_as is the
  --    oldest stored representative that matches (the select runs before this statement's own
  --    rows exist, so it sees only stored ones).
  with input as (
    select c.*, m.id as mol_id, sp.spec_id
      from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
      join public.molecules m on m.user_id = v_user and m.molecule_key = c.molecule_key
      join unnest(v_spec_idx, v_spec_id) as sp(idx, spec_id) on sp.idx = c.idx
  ),
  firsts as (
    select distinct on (mol_id, spec_id, charge, multiplicity, geometry_sha256) *,
           case when structure_count is not null
                then p_structure[structure_offset + 1 : structure_offset + structure_count]::real[] end as distances
      from input
     order by mol_id, spec_id, charge, multiplicity, geometry_sha256, idx
  ),
  -- The fingerprint range of each new key, computed once per row (materialized: inlined, the
  -- functions would run once per candidate row).
  bounded as materialized (
    select f.*, public.structure_group(f.mol_id, f.spec_id, f.charge, f.multiplicity) as grp,
           b.fp - b.w as fp_lo, b.fp + b.w as fp_hi, b.ext - b.tol as ext_lo, b.ext + b.tol as ext_hi
      from firsts f
     cross join lateral (select public.structure_fingerprint(f.distances) as fp,
                                public.same_structure_window(f.distances) as w,
                                public.structure_extent(f.distances) as ext,
                                public.same_structure_tolerance_ang() + 1e-9 as tol) b
     where f.distances is not null
    union all
    select f.*, null, null, null, null, null from firsts f where f.distances is null
  ),
  keyed as (
    select f.*, x.rep
      from bounded f
      left join lateral (
        -- OFFSET 0 keeps the candidates a subquery of their own, so that the ORDER BY ... LIMIT 1
        -- cannot lead the planner to walk the user's rows in created_at order until one matches
        -- (every stored row, when none does), as a generic plan did.
        select c.id as rep
          from (select o.id, o.created_at
                  from public.calculations o
                 where f.distances is not null
                   and o.user_id = v_user
                   and public.structure_group(o.molecule_id, o.specification_id, o.charge, o.multiplicity) = f.grp
                   and o.structure_extent between f.ext_lo and f.ext_hi
                   and o.structure_fingerprint between f.fp_lo and f.fp_hi
                   and o.same_structure_as is null
                   and public.same_structure(o.structure_distances, f.distances)
                offset 0) c
         order by c.created_at, c.id
         limit 1
      ) x on true
  ),
  inserted as (
    insert into public.calculations as k (
      user_id, molecule_id, specification_id, batch_item_id, method, task, solvent, charge, multiplicity, status,
      total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, converged, gradient_norm_eh_bohr,
      wall_time_s, xtb_version, geometry_sha256, structure_distances, same_structure_as, source, tags, metadata,
      error_message, started_at, completed_at)
    select v_user, f.mol_id, f.spec_id, f.batch_item_id, f.method, f.task, f.solvent, f.charge, f.multiplicity, f.status,
           f.total_energy_eh, f.homo_lumo_gap_ev, f.dipole_debye, f.dipole_au, f.converged, f.gradient_norm_eh_bohr,
           f.wall_time_s, f.xtb_version, f.geometry_sha256, f.distances, f.rep,
           f.source, coalesce(f.tags, '{}'), coalesce(f.metadata, '{}'),
           f.error_message,
           coalesce(f.started_at, case when f.status = 'running' then now() end),
           coalesce(f.completed_at, case when f.status in ('completed', 'failed') then now() end)
      from keyed f
    on conflict (user_id, molecule_id, specification_id, charge, multiplicity, geometry_sha256) do nothing
    returning k.id, k.molecule_id, k.specification_id, k.charge, k.multiplicity, k.geometry_sha256
  )
  select coalesce(array_agg(f.idx), '{}'), coalesce(array_agg(i.id), '{}')
    into v_created_idx, v_created_id
    from inserted i
    join firsts f
      on f.mol_id = i.molecule_id and f.spec_id = i.specification_id and f.charge = i.charge
     and f.multiplicity = i.multiplicity and f.geometry_sha256 = i.geometry_sha256;

  -- 4. The stored row of every item not created above (already there, or repeated within this
  --    request): one probe of calculations_identity_key each.
  select coalesce(array_agg(i.idx order by i.idx), '{}'), coalesce(array_agg(k.id order by i.idx), '{}')
    into v_found_idx, v_found_id
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as i
    join public.molecules m on m.user_id = v_user and m.molecule_key = i.molecule_key
    join unnest(v_spec_idx, v_spec_id) as sp(idx, spec_id) on sp.idx = i.idx
    join public.calculations k
      on k.user_id = v_user and k.molecule_id = m.id and k.specification_id = sp.spec_id
     and k.charge = i.charge and k.multiplicity = i.multiplicity and k.geometry_sha256 = i.geometry_sha256
   where i.idx <> all (v_created_idx);

  -- 5. Existing rows that this request moves forward: running/pending → completed/failed, and a
  --    completed result for a failed one. A failed row first goes back to pending, the only
  --    backward step the status rules allow (a retry), so the transition stays on the record.
  update public.calculations k
     set status = 'pending'
    from unnest(v_found_idx, v_found_id) as e(idx, id)
    join jsonb_populate_recordset(null::public.ingest_item, p_calculations) as i on i.idx = e.idx
   where k.id = e.id and k.user_id = v_user
     and k.status = 'failed' and i.status = 'completed';

  with input as (
    select c.*
      from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
  ),
  -- One update per row even if the request repeats the identity: the first such item wins.
  movers as (
    select distinct on (k.id) k.id, i.*
      from unnest(v_found_idx, v_found_id) as e(idx, id)
      join input i on i.idx = e.idx
      join public.calculations k on k.id = e.id and k.user_id = v_user
     where k.status in ('pending', 'running') and i.status in ('completed', 'failed')
     order by k.id, i.idx
  ),
  updated as (
    update public.calculations k
       set status = m.status,
           total_energy_eh = m.total_energy_eh,
           homo_lumo_gap_ev = m.homo_lumo_gap_ev,
           dipole_debye = m.dipole_debye,
           dipole_au = m.dipole_au,
           converged = m.converged,
           gradient_norm_eh_bohr = m.gradient_norm_eh_bohr,
           wall_time_s = m.wall_time_s,
           xtb_version = m.xtb_version,
           batch_item_id = coalesce(m.batch_item_id, k.batch_item_id),
           source = coalesce(m.source, k.source),
           tags = case when cardinality(m.tags) > 0 then m.tags else k.tags end,
           metadata = k.metadata || coalesce(m.metadata, '{}'),
           error_message = m.error_message,
           started_at = coalesce(k.started_at, m.started_at),
           completed_at = coalesce(m.completed_at, now())
      from movers m
     where k.id = m.id
    returning k.id
  )
  select coalesce(array_agg(m.idx), '{}'), coalesce(array_agg(m.id), '{}')
    into v_updated_idx, v_updated_id
    from updated u join movers m on m.id = u.id;

  -- 6. Same structure within the request: a new row left unmarked by step 3 points at any other
  --    unmarked row of its structure with a smaller id (the index range holds only unmarked rows,
  --    so this finds the request's other copies without comparing every pair); the one with the
  --    smallest id has none and stays the representative. The pointers are followed to it before
  --    anything is written, so each row is updated once.
  --    Only needed when the request brought two or more new unmarked rows of one molecule,
  --    specification, charge and multiplicity (a conformer sweep), so it is skipped otherwise.
  if exists (
    select 1
      from public.calculations k
     where k.id = any (v_created_id) and k.user_id = v_user
       and k.same_structure_as is null and k.structure_fingerprint is not null
     group by k.molecule_id, k.specification_id, k.charge, k.multiplicity
    having count(*) > 1
  ) then
    with recursive pending as materialized (
      select k.id, public.structure_group(k.molecule_id, k.specification_id, k.charge, k.multiplicity) as grp,
             k.structure_distances,
             k.structure_fingerprint - public.same_structure_window(k.structure_distances) as fp_lo,
             k.structure_fingerprint + public.same_structure_window(k.structure_distances) as fp_hi,
             k.structure_extent - public.same_structure_tolerance_ang() - 1e-9 as ext_lo,
             k.structure_extent + public.same_structure_tolerance_ang() + 1e-9 as ext_hi
        from unnest(v_created_id) as w(id)
        join public.calculations k on k.id = w.id and k.user_id = v_user
       where k.same_structure_as is null and k.structure_fingerprint is not null
    ),
    edges as (
      select n.id, x.id as target
        from pending n
       cross join lateral (
         -- OFFSET 0: the candidates by the structure index, whatever LIMIT 1 makes look cheap (as above).
         select c.id
           from (select o.id
                   from public.calculations o
                  where o.user_id = v_user
                    and public.structure_group(o.molecule_id, o.specification_id, o.charge, o.multiplicity) = n.grp
                    and o.structure_extent between n.ext_lo and n.ext_hi
                    and o.structure_fingerprint between n.fp_lo and n.fp_hi
                    and o.same_structure_as is null
                    and o.id < n.id
                    and public.same_structure(o.structure_distances, n.structure_distances)
                 offset 0) c
          limit 1
       ) x
    ),
    -- Every pointer leads to a smaller id, so the walk ends at a row that points nowhere.
    walk (id, root) as (
      select e.id, e.target from edges e where not exists (select 1 from edges f where f.id = e.target)
      union all
      select e.id, w.root from edges e join walk w on e.target = w.id
    )
    update public.calculations k
       set same_structure_as = w.root
      from walk w
     where k.id = w.id and k.user_id = v_user;
  end if;

  -- 7. Atoms of the rows written above, in one set-based statement. An updated row's atoms are
  --    replaced: a running registration has none, and a superseded failure's are stale.
  delete from public.atomic_properties a where a.calculation_id = any (v_updated_id);

  insert into public.atomic_properties (
    calculation_id, user_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang,
    partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr)
  select w.id, v_user, a.atom_index, a.element, a.atomic_number, a.x, a.y, a.z, a.q, a.gx, a.gy, a.gz
    from unnest(v_created_idx || v_updated_idx, v_created_id || v_updated_id) as w(idx, id)
    join unnest(p_atom_calc, p_atom_index, p_element, p_atomic_number, p_x_ang, p_y_ang, p_z_ang,
                p_partial_charge_e, p_grad_x_eh_bohr, p_grad_y_eh_bohr, p_grad_z_eh_bohr)
           as a(calc_idx, atom_index, element, atomic_number, x, y, z, q, gx, gy, gz)
      on a.calc_idx = w.idx;

  -- 8. Provenance of the rows written above; an updated row's is replaced by its new result's.
  if jsonb_array_length(coalesce(p_provenance, '[]')) > 0 then
    insert into public.calculation_provenance as p (
      calculation_id, user_id, command, xtb_version, parser_version, files, input_xyz,
      raw_output_gzip, raw_output_sha256, raw_output_bytes)
    select w.id, v_user, r.command, r.xtb_version, r.parser_version, coalesce(r.files, '[]'), r.input_xyz,
           decode(r.raw_output_base64, 'base64'), r.raw_output_sha256, r.raw_output_bytes
      from unnest(v_created_idx || v_updated_idx, v_created_id || v_updated_id) as w(idx, id)
      join jsonb_to_recordset(p_provenance) as r(
             idx int, command text, xtb_version text, parser_version text, files jsonb, input_xyz text,
             raw_output_base64 text, raw_output_sha256 text, raw_output_bytes bigint)
        on r.idx = w.idx
    on conflict (user_id, calculation_id) do update
       set command = excluded.command,
           xtb_version = excluded.xtb_version,
           parser_version = excluded.parser_version,
           files = excluded.files,
           input_xyz = excluded.input_xyz,
           raw_output_gzip = excluded.raw_output_gzip,
           raw_output_sha256 = excluded.raw_output_sha256,
           raw_output_bytes = excluded.raw_output_bytes,
           created_at = now();
  end if;

  -- 9. One row per input item, in input order.
  return query
  with written as (
    select w.idx, w.id from unnest(v_created_idx, v_created_id) as w(idx, id)
    union all
    select e.idx, e.id from unnest(v_found_idx, v_found_id) as e(idx, id)
  ),
  atom_counts as (
    select a.calc_idx, count(*)::int as n from unnest(p_atom_calc) as a(calc_idx) group by a.calc_idx
  )
  select i.idx,
         case when i.idx = any (v_created_idx) then 'created'
              when i.idx = any (v_updated_idx) then 'updated'
              else 'duplicate' end,
         w.id,
         m.id,
         case when i.idx = any (v_created_idx) or i.idx = any (v_updated_idx) then coalesce(n.n, 0) else 0 end,
         s.spec_hash,
         k.same_structure_as
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as i
    join public.molecules m on m.user_id = v_user and m.molecule_key = i.molecule_key
    join written w on w.idx = i.idx
    join public.calculations k on k.id = w.id and k.user_id = v_user
    join public.specifications s on s.id = k.specification_id and s.user_id = v_user
    left join atom_counts n on n.calc_idx = i.idx
   order by i.idx;
end
$$;

comment on function public.ingest_calculations is
  'Stores a batch of calculations with their molecules, specifications, atoms and provenance for the calling user, '
  'marking new rows whose structure is already stored; one row per item: created, updated or duplicate.';

revoke execute on function public.ingest_calculations from public, anon, authenticated;
grant execute on function public.ingest_calculations to qf_api, service_role;
