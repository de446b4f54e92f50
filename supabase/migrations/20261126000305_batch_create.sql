-- Creating a batch and adding items to it.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- add_batch_items: new molecules and items for a batch of the caller, as two set-based
-- statements. create_batch uses it for a new batch; POST /batches/:id/items for more items (a
-- request carries at most 10,000). A finished batch that gets items is running again (counter
-- trigger); a cancelled one takes none.
-- ---------------------------------------------------------------------------------------------
create function public.add_batch_items(p_batch_id uuid, p_molecules jsonb, p_items jsonb)
  returns table (outcome text, items integer, molecules integer, molecules_created integer)
  language plpgsql security invoker set search_path = ''
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
  --    ingest; a row written without a key is adopted first (public.adopt_legacy_molecules).
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

-- ---------------------------------------------------------------------------------------------
-- create_batch: the batch, then its molecules and items with add_batch_items, in one call.
-- ---------------------------------------------------------------------------------------------
create function public.create_batch(p_batch jsonb, p_molecules jsonb, p_items jsonb)
  returns table (batch_id uuid, items integer, molecules integer, molecules_created integer)
  language plpgsql security invoker set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(false);
  v_batch uuid;
begin
  insert into public.batch_jobs (user_id, name, method, task, solvent, max_attempts, priority, tags, xtb_args, metadata)
  select v_user, b.name, b.method, b.task, b.solvent, b.max_attempts, b.priority,
         coalesce(b.tags, '{}'), coalesce(b.xtb_args, '{}'), coalesce(b.metadata, '{}')
    from jsonb_to_record(p_batch) as b(
           name text, method text, task text, solvent text, max_attempts integer, priority integer,
           tags text[], xtb_args text[], metadata jsonb)
  returning id into v_batch;

  return query
  select v_batch, a.items, a.molecules, a.molecules_created
    from public.add_batch_items(v_batch, p_molecules, p_items) a;
end;
$$;

comment on function public.create_batch(jsonb, jsonb, jsonb) is
  'Creates a batch for the calling user with its new molecules and its items (each by molecule_id or molecule_key) '
  'in one call. Returns the batch id and counts.';

revoke execute on function
  public.add_batch_items(uuid, jsonb, jsonb),
  public.create_batch(jsonb, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function
  public.add_batch_items(uuid, jsonb, jsonb),
  public.create_batch(jsonb, jsonb, jsonb)
  to qf_api, service_role;
