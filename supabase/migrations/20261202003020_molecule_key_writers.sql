-- The writers of molecules identify them by molecule_key (20261202003000_molecule_key.sql):
-- ingest_calculations and add_batch_items insert on (user_id, molecule_key) and find their rows by
-- it, and first adopt a row written before molecule keys existed (adopt_legacy_molecules).
--
-- Redefined here in full, unchanged apart from the molecule key:
--   * type public.ingest_item            gains the attribute molecule_key;
--   * public.ingest_calculations(…)       (last defined in 20261126000510_ingest_identity_lookup.sql):
--                                         step 1 adopts and inserts by molecule_key, and the three
--                                         joins to molecules (steps 2, 3, 6) use molecule_key;
--   * public.add_batch_items(uuid, jsonb, jsonb) (20261126000310_batch_queue_functions.sql):
--                                         adopts and inserts by molecule_key; an item names its
--                                         molecule by id or by molecule_key (no longer inchikey).
-- New: public.adopt_legacy_molecules(uuid, jsonb), and a partial index that makes it free once no
-- legacy row is left.

alter type public.ingest_item add attribute molecule_key text;

-- ---------------------------------------------------------------------------------------------
-- adopt_legacy_molecules: gives a row written before molecule keys (molecule_key null) the key of
-- a molecule the request brings, when it is the same molecule: same user, same standard InChIKey
-- and same RDKit canonical SMILES (RDKit wrote both). A row whose key another row already holds
-- is left for the backfill to report. Costs one probe of molecules_legacy_idx when nothing is left.
-- ---------------------------------------------------------------------------------------------
create index molecules_legacy_idx on public.molecules (user_id, inchikey) where molecule_key is null;

create function public.adopt_legacy_molecules(p_user uuid, p_molecules jsonb)
  returns void
  language sql
  security invoker
  set search_path = ''
as $$
  update public.molecules m
     set molecule_key = c.molecule_key
    from (select distinct on (x.molecule_key) x.molecule_key, x.inchikey, x.canonical_smiles
            from jsonb_to_recordset(p_molecules) as x(molecule_key text, inchikey text, canonical_smiles text)
           where x.molecule_key is not null
           order by x.molecule_key) c
   where exists (select 1 from public.molecules l where l.user_id = p_user and l.molecule_key is null)
     and m.user_id = p_user and m.molecule_key is null
     and m.inchikey = c.inchikey and m.canonical_smiles = c.canonical_smiles
     and not exists (select 1 from public.molecules k where k.user_id = p_user and k.molecule_key = c.molecule_key)
$$;

comment on function public.adopt_legacy_molecules(uuid, jsonb) is
  'Sets molecule_key on the user''s rows written before molecule keys, for the molecules given '
  '(molecule_key, inchikey, canonical_smiles) that are the same molecule. Called by the writers before they insert.';
revoke execute on function public.adopt_legacy_molecules(uuid, jsonb) from public, anon;
grant execute on function public.adopt_legacy_molecules(uuid, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- ingest_calculations
-- ---------------------------------------------------------------------------------------------
create or replace function public.ingest_calculations(
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

  -- 1. Molecules, by molecule_key (the fixed-H InChIKey). First a row written before molecule
  --    keys existed is adopted when this request brings its molecule (same standard InChIKey,
  --    same canonical SMILES); then the new ones are inserted, in key order so concurrent
  --    requests lock alike.
  perform public.adopt_legacy_molecules(v_user, p_calculations);

  insert into public.molecules (user_id, canonical_smiles, inchikey, molecule_key, formula, name, input_smiles, n_atoms)
  select distinct on (c.molecule_key) v_user, c.canonical_smiles, c.inchikey, c.molecule_key, c.formula, c.name, c.input_smiles, c.n_atoms
    from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
   order by c.molecule_key, c.idx
  on conflict (user_id, molecule_key) do nothing;

  -- 2. Calculations: insert those whose identity is new; the first item of a repeated identity wins.
  with input as (
    select c.*, m.id as mol_id
      from jsonb_populate_recordset(null::public.ingest_item, p_calculations) as c
      join public.molecules m on m.user_id = v_user and m.molecule_key = c.molecule_key
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
    join public.molecules m on m.user_id = v_user and m.molecule_key = i.molecule_key
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
    join public.molecules m on m.user_id = v_user and m.molecule_key = i.molecule_key
    join written w on w.idx = i.idx
    left join atom_counts n on n.calc_idx = i.idx
   order by i.idx;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- add_batch_items
-- ---------------------------------------------------------------------------------------------
create or replace function public.add_batch_items(p_batch_id uuid, p_molecules jsonb, p_items jsonb)
  returns table (outcome text, items integer, molecules integer, molecules_created integer)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(false);
  v_status text;
  v_priority integer;
  v_molecules_created integer;
  v_items integer;
  v_molecules integer;
begin
  -- The batch row lock the counter trigger takes anyway, taken first: a concurrent cancel either
  -- sees our items or we see it cancelled. New items lock no existing item, so this order is safe.
  select b.status, b.priority into v_status, v_priority
    from public.batch_jobs b
   where b.id = p_batch_id and b.user_id = v_user
     for no key update;
  if not found then
    return query select 'not_found', 0, 0, 0;
    return;
  end if;
  if v_status = 'cancelled' then
    return query select 'cancelled', 0, 0, 0;
    return;
  end if;

  -- 1. Molecules given as SMILES (identified by the caller), by molecule_key, in key order like
  --    ingest; a row written before molecule keys is adopted first.
  perform public.adopt_legacy_molecules(v_user, p_molecules);

  insert into public.molecules (user_id, canonical_smiles, inchikey, molecule_key, formula, name, input_smiles, n_atoms)
  select v_user, m.canonical_smiles, m.inchikey, m.molecule_key, m.formula, m.name, m.input_smiles, m.n_atoms
    from jsonb_to_recordset(p_molecules) as m(
           molecule_key text, inchikey text, canonical_smiles text, formula text, name text, input_smiles text, n_atoms integer)
   order by m.molecule_key
  on conflict (user_id, molecule_key) do nothing;
  get diagnostics v_molecules_created = row_count;

  -- 2. The items, in the order sent (seq follows it). An item names its molecule by id or by
  --    molecule_key; the foreign key (molecule_id, user_id) refuses another user's molecule.
  with inserted as (
    insert into public.batch_items (user_id, batch_job_id, molecule_id, name, input_geometry, charge, multiplicity, priority)
    select v_user, p_batch_id, coalesce(i.molecule_id, m.id), i.name, i.input_geometry, i.charge, i.multiplicity, v_priority
      from jsonb_to_recordset(p_items) as i(
             idx integer, molecule_id uuid, molecule_key text, name text, input_geometry jsonb,
             charge integer, multiplicity integer)
      left join public.molecules m
        on i.molecule_id is null and m.user_id = v_user and m.molecule_key = i.molecule_key
     order by i.idx
    returning molecule_id
  )
  select count(*)::integer, count(distinct molecule_id)::integer into v_items, v_molecules from inserted;

  return query select 'added', v_items, v_molecules, v_molecules_created;
end;
$$;

comment on function public.add_batch_items(uuid, jsonb, jsonb) is
  'Adds items (each by molecule_id or molecule_key) and their new molecules to a batch of the calling user. '
  'Outcome: added, not_found or cancelled; counts of items, distinct molecules and molecules created.';
