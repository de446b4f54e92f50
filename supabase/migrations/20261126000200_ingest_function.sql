-- Ingest: stores a request's calculations, their molecules and their atoms in one call, so that a
-- request is one transaction and one round trip. Runs as the caller (security invoker): RLS and
-- the table grants apply exactly as for any other statement of that user.
--
-- Idempotency: molecules are unique per (user_id, inchikey) and calculations per their identity
-- (user, molecule, method, task, solvent, charge, multiplicity, geometry hash). A second POST of
-- the same result finds the existing row and writes nothing. A `running` registration is later
-- completed in place; a completed result supersedes a failed one (a retry); otherwise the stored
-- row wins and the item is a duplicate.
--
-- Each statement below is separate on purpose: under READ COMMITTED, a statement sees rows that
-- concurrent transactions committed while this one waited on a unique index, so the look-ups
-- after each `on conflict do nothing` find the winner's row instead of missing it.
--
-- Look-ups of stored rows are index probes: the stored row of each item that was not created is
-- found once, right after the insert (step 3), by comparing the solvent with `=` or `is null` in
-- two branches, each a unique probe of calculations_identity_key; the later steps join by id.
-- (A join with `k.solvent is not distinct from i.solvent` cannot use an index: each look-up then
-- walked every calculation of the same molecule, method and task, so a conformer sweep of one
-- molecule got slower with every geometry stored.)

-- One ingest item as the function receives it (a jsonb array of these): the molecule's identity
-- computed by the caller with RDKit, then the calculation's columns.
create type public.ingest_item as (
  idx int, inchikey text, canonical_smiles text, formula text, name text, input_smiles text, n_atoms int,
  method text, task text, solvent text, charge int, multiplicity int, geometry_sha256 text, status text,
  total_energy_eh float8, homo_lumo_gap_ev float8, dipole_debye float8, dipole_au float8[], converged boolean,
  gradient_norm_eh_bohr float8, wall_time_s float8, xtb_version text, batch_item_id uuid, source text,
  tags text[], metadata jsonb, error_message text, started_at timestamptz, completed_at timestamptz
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
  p_grad_z_eh_bohr float8[]
)
returns table (idx int, outcome text, calculation_id uuid, molecule_id uuid, atoms_written int)
language plpgsql
security invoker
set search_path = ''
as $$
-- The output columns (idx, calculation_id, molecule_id, …) share names with table columns.
#variable_conflict use_column
declare
  v_user uuid := (select auth.uid());
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

  -- 1. Molecules: insert the new ones, in key order so concurrent requests lock alike.
  insert into public.molecules (user_id, canonical_smiles, inchikey, formula, name, input_smiles, n_atoms)
  select distinct on (c.inchikey) v_user, c.canonical_smiles, c.inchikey, c.formula, c.name, c.input_smiles, c.n_atoms
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
   order by c.inchikey, c.idx
  on conflict (user_id, inchikey) do nothing;

  -- 2. Calculations: insert those whose identity is new; the first item of a repeated identity wins.
  with input as (
    select c.*, m.id as mol_id
      from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
      join public.molecules m on m.user_id = v_user and m.inchikey = c.inchikey
  ),
  firsts as (
    select distinct on (mol_id, method, task, solvent, charge, multiplicity, geometry_sha256) *
      from input
     order by mol_id, method, task, solvent, charge, multiplicity, geometry_sha256, idx
  ),
  inserted as (
    insert into public.calculations as k (
      user_id, molecule_id, batch_item_id, method, task, solvent, charge, multiplicity, status,
      total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, converged, gradient_norm_eh_bohr,
      wall_time_s, xtb_version, geometry_sha256, source, tags, metadata, error_message, started_at, completed_at)
    select v_user, f.mol_id, f.batch_item_id, f.method, f.task, f.solvent, f.charge, f.multiplicity, f.status,
           f.total_energy_eh, f.homo_lumo_gap_ev, f.dipole_debye, f.dipole_au, f.converged, f.gradient_norm_eh_bohr,
           f.wall_time_s, f.xtb_version, f.geometry_sha256, f.source, coalesce(f.tags, '{}'), coalesce(f.metadata, '{}'),
           f.error_message,
           coalesce(f.started_at, case when f.status = 'running' then now() end),
           coalesce(f.completed_at, case when f.status in ('completed', 'failed') then now() end)
      from firsts f
    on conflict (user_id, molecule_id, method, task, solvent, charge, multiplicity, geometry_sha256) do nothing
    returning k.id, k.molecule_id, k.method, k.task, k.solvent, k.charge, k.multiplicity, k.geometry_sha256
  )
  select coalesce(array_agg(f.idx), '{}'), coalesce(array_agg(i.id), '{}')
    into v_created_idx, v_created_id
    from inserted i
    join firsts f
      on f.mol_id = i.molecule_id and f.method = i.method and f.task = i.task
     and f.solvent is not distinct from i.solvent and f.charge = i.charge
     and f.multiplicity = i.multiplicity and f.geometry_sha256 = i.geometry_sha256;

  -- 3. The stored row of every item not created above (already there, or repeated within this
  --    request), found through calculations_identity_key. Solvent is compared with `=` or as
  --    null in two branches, because `is not distinct from` cannot use an index: with it, the
  --    look-up read every calculation of the molecule, method and task.
  select coalesce(array_agg(i.idx order by i.idx), '{}'), coalesce(array_agg(x.id order by i.idx), '{}')
    into v_found_idx, v_found_id
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as i
    join public.molecules m on m.user_id = v_user and m.inchikey = i.inchikey
   cross join lateral (
     select k.id
       from public.calculations k
      where k.user_id = v_user and k.molecule_id = m.id and k.method = i.method and k.task = i.task
        and k.solvent = i.solvent and k.charge = i.charge and k.multiplicity = i.multiplicity
        and k.geometry_sha256 = i.geometry_sha256
     union all
     select k.id
       from public.calculations k
      where i.solvent is null
        and k.user_id = v_user and k.molecule_id = m.id and k.method = i.method and k.task = i.task
        and k.solvent is null and k.charge = i.charge and k.multiplicity = i.multiplicity
        and k.geometry_sha256 = i.geometry_sha256
   ) x
   where i.idx <> all (v_created_idx);

  -- 4. Existing rows that this request moves forward: running/pending → completed/failed, and a
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

  -- 5. Atoms of the rows written above, in one set-based statement. An updated row's atoms are
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

  -- 6. One row per input item, in input order.
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
         case when i.idx = any (v_created_idx) or i.idx = any (v_updated_idx) then coalesce(n.n, 0) else 0 end
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as i
    join public.molecules m on m.user_id = v_user and m.inchikey = i.inchikey
    join written w on w.idx = i.idx
    left join atom_counts n on n.calc_idx = i.idx
   order by i.idx;
end
$$;

comment on function public.ingest_calculations is
  'Stores a batch of calculations with their molecules and atoms for the calling user; one row per item: created, updated or duplicate.';

revoke execute on function public.ingest_calculations from public, anon;
grant execute on function public.ingest_calculations to authenticated, service_role;
