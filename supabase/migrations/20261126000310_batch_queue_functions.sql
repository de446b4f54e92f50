-- The batch queue's multi-row work, one SQL function per step, so that each step is atomic and
-- one round trip: create a batch, claim items under a lease, heartbeat, fail, complete (link the
-- stored calculation), cancel and retry. The `batches` edge function calls these.
--
-- Who runs them: every function is `security invoker`, so row-level security and the table
-- grants apply exactly as to the caller's own statements.
--   * A user (or the service-role key acting for one) runs as `authenticated`: RLS limits every
--     statement to that user's rows, and each function also filters on auth.uid() explicitly.
--   * The service-role key may work across users only by passing p_all_users => true. Then the
--     transaction runs as `service_role`, which bypasses RLS; public.batch_caller() refuses
--     p_all_users for any role that does not bypass RLS, so a user can never widen its reach.
--
-- Leases: a claimed item belongs to `claimed_by` until `lease_expires_at`. No cron is needed: the
-- claim query treats an expired claimed item as pending, closes its open attempt as
-- `lease_expired` in attempt_history, and claims it again (or fails it, when the attempt was its
-- last). Until someone claims it again, its runner may still heartbeat, complete or fail it.
--
-- attempt_history holds one object per attempt:
--   {"attempt": n, "runner": "...", "started_at": ..., "ended_at": ..., "outcome": "...", "error": ...}
-- appended at claim time with outcome `claimed` and closed by the step that ends the attempt.
--
-- Lock order, as in the counter triggers (migration batch_counters): items first, then their
-- batch row (taken by the counter trigger when an item's status changes). Cancel and retry lock
-- the items they will touch before the batch row for the same reason.

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------
create function public.batch_caller(p_all_users boolean)
  returns uuid
  language plpgsql
  stable
  security invoker
  set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
begin
  if p_all_users then
    if not coalesce((select r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user), false) then
      raise exception 'all_users is only for the service_role key; % may work only on its own rows', current_user
        using errcode = 'insufficient_privilege';
    end if;
    return null;
  end if;
  if v_user is null then
    raise exception 'no user: a user token works on its own rows, the service-role key must act for a user or pass all_users'
      using errcode = 'invalid_authorization_specification';
  end if;
  return v_user;
end;
$$;

comment on function public.batch_caller(boolean) is
  'The user whose items a batch function may touch (auth.uid()), or null for all users, which only a role that '
  'bypasses RLS (service_role) may ask for.';

create function public.batch_item_close_attempt(
  p_history  jsonb,
  p_runner   text,
  p_outcome  text,
  p_error    text,
  p_ended_at timestamptz
)
  returns jsonb
  language sql
  immutable
  set search_path = ''
as $$
  -- Closes the open attempt (or one closed as `cancelled` by this runner, which a late result
  -- supersedes); without one, records a closed attempt of its own.
  select case
    when jsonb_array_length(p_history) > 0
         and ((p_history -> -1 ->> 'ended_at') is null
              or (p_history -> -1 ->> 'outcome' = 'cancelled' and p_history -> -1 ->> 'runner' = p_runner))
      then jsonb_set(p_history, '{-1}', (p_history -> -1) || jsonb_build_object(
             'ended_at', p_ended_at, 'outcome', p_outcome, 'error', p_error))
    else p_history || jsonb_build_array(jsonb_build_object(
           'attempt', null, 'runner', p_runner, 'started_at', null, 'ended_at', p_ended_at,
           'outcome', p_outcome, 'error', p_error))
  end
$$;

comment on function public.batch_item_close_attempt(jsonb, text, text, text, timestamptz) is
  'attempt_history with its open attempt closed with the given outcome and error.';

-- ---------------------------------------------------------------------------------------------
-- add_batch_items: new molecules and items for a batch of the caller, as two set-based
-- statements. create_batch uses it for a new batch; POST /batches/:id/items for more items (a
-- request carries at most 10,000). A finished batch that gets items is running again (counter
-- trigger); a cancelled one takes none.
-- ---------------------------------------------------------------------------------------------
create function public.add_batch_items(p_batch_id uuid, p_molecules jsonb, p_items jsonb)
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

  -- 1. Molecules given as SMILES (canonicalised by the caller), in key order like ingest.
  insert into public.molecules (user_id, canonical_smiles, inchikey, formula, name, input_smiles, n_atoms)
  select v_user, m.canonical_smiles, m.inchikey, m.formula, m.name, m.input_smiles, m.n_atoms
    from jsonb_to_recordset(p_molecules) as m(
           inchikey text, canonical_smiles text, formula text, name text, input_smiles text, n_atoms integer)
   order by m.inchikey
  on conflict (user_id, inchikey) do nothing;
  get diagnostics v_molecules_created = row_count;

  -- 2. The items, in the order sent (seq follows it). An item names its molecule by id or by
  --    InChIKey; the foreign key (molecule_id, user_id) refuses another user's molecule.
  with inserted as (
    insert into public.batch_items (user_id, batch_job_id, molecule_id, name, input_geometry, charge, multiplicity, priority)
    select v_user, p_batch_id, coalesce(i.molecule_id, m.id), i.name, i.input_geometry, i.charge, i.multiplicity, v_priority
      from jsonb_to_recordset(p_items) as i(
             idx integer, molecule_id uuid, inchikey text, name text, input_geometry jsonb,
             charge integer, multiplicity integer)
      left join public.molecules m
        on i.molecule_id is null and m.user_id = v_user and m.inchikey = i.inchikey
     order by i.idx
    returning molecule_id
  )
  select count(*)::integer, count(distinct molecule_id)::integer into v_items, v_molecules from inserted;

  return query select 'added', v_items, v_molecules, v_molecules_created;
end;
$$;

comment on function public.add_batch_items(uuid, jsonb, jsonb) is
  'Adds items (each by molecule_id or InChIKey) and their new molecules to a batch of the calling user. '
  'Outcome: added, not_found or cancelled; counts of items, distinct molecules and molecules created.';

-- ---------------------------------------------------------------------------------------------
-- create_batch: the batch, then its molecules and items with add_batch_items, in one call.
-- ---------------------------------------------------------------------------------------------
create function public.create_batch(p_batch jsonb, p_molecules jsonb, p_items jsonb)
  returns table (batch_id uuid, items integer, molecules integer, molecules_created integer)
  language plpgsql
  security invoker
  set search_path = ''
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
  'Creates a batch for the calling user with its new molecules and its items (each by molecule_id or InChIKey) '
  'in one call. Returns the batch id and counts.';

-- ---------------------------------------------------------------------------------------------
-- claim_batch_items: ONE statement (one per mode: a user's items, or all users'). Candidates are
-- pending items and claimed items whose lease has expired, of pending or running batches, highest
-- priority first then oldest, locked with FOR UPDATE SKIP LOCKED so concurrent runners never
-- receive the same item. An expired one gets `lease_expired` on its open attempt; if that was its
-- last attempt it fails instead of being claimed (and is not returned). With p_batch_id, a user's
-- claim still walks that user's claim order and skips other batches' items.
-- ---------------------------------------------------------------------------------------------
create function public.claim_batch_items(
  p_runner_id     text,
  p_limit         integer,
  p_lease_seconds integer,
  p_batch_id      uuid    default null,
  p_methods       text[]  default null,
  p_all_users     boolean default false
)
  returns table (
    item_id uuid, batch_id uuid, user_id uuid, molecule_id uuid, canonical_smiles text, name text,
    charge integer, multiplicity integer, input_geometry jsonb, method text, task text, solvent text,
    xtb_args text[], attempt integer, max_attempts integer, lease_expires_at timestamptz)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
begin
  if p_runner_id is null or char_length(p_runner_id) not between 1 and 200 then
    raise exception 'claim_batch_items: runner_id must be 1 to 200 characters' using errcode = 'invalid_parameter_value';
  end if;
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception 'claim_batch_items: limit must be 1 to 100, got %', p_limit using errcode = 'invalid_parameter_value';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception 'claim_batch_items: lease_seconds must be 30 to 3600, got %', p_lease_seconds
      using errcode = 'invalid_parameter_value';
  end if;

  -- The same statement twice, each planned for its own index: a user's claim walks
  -- (user_id, priority desc, seq); the all-users claim orders by (-priority, seq), the same order
  -- spelled so that only batch_items_claim_order_idx delivers it.
  if p_all_users then
    -- As service_role (RLS bypassed, checked by batch_caller): every user's items.
    return query
    with candidate as (
      select i.id,
             i.status = 'claimed' as expired,
             i.status = 'claimed' and i.attempts >= b.max_attempts as exhausted
        from public.batch_items i
        join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
       where (i.status = 'pending' or (i.status = 'claimed' and i.lease_expires_at < now()))
         and b.status in ('pending', 'running')
         and (p_batch_id is null or i.batch_job_id = p_batch_id)
         and (p_methods is null or b.method = any (p_methods))
       order by -i.priority, i.seq
       limit p_limit
         for update of i skip locked
    ),
    claimed as (
      update public.batch_items i
         set status = case when c.exhausted then 'failed' else 'claimed' end,
             attempts = i.attempts + case when c.exhausted then 0 else 1 end,
             claimed_by = case when c.exhausted then i.claimed_by else p_runner_id end,
             lease_expires_at = case when c.exhausted then null
                                     else now() + make_interval(secs => p_lease_seconds) end,
             last_error = case when c.expired
                               then format('lease expired: runner %s did not report attempt %s', i.claimed_by, i.attempts)
                               else i.last_error end,
             attempt_history =
               case when c.expired
                    then public.batch_item_close_attempt(i.attempt_history, i.claimed_by, 'lease_expired',
                           format('lease expired at %s', i.lease_expires_at), i.lease_expires_at)
                    else i.attempt_history end
               || case when c.exhausted then '[]'::jsonb
                       else jsonb_build_array(jsonb_build_object(
                              'attempt', i.attempts + 1, 'runner', p_runner_id, 'started_at', now(),
                              'ended_at', null, 'outcome', 'claimed', 'error', null)) end
        from candidate c
       where i.id = c.id
      returning i.id, i.batch_job_id, i.user_id, i.molecule_id, i.name, i.charge, i.multiplicity,
                i.input_geometry, i.status, i.attempts, i.lease_expires_at, i.priority, i.seq
    )
    select k.id, k.batch_job_id, k.user_id, k.molecule_id, m.canonical_smiles, coalesce(k.name, m.name),
           k.charge, k.multiplicity, k.input_geometry, b.method, b.task, b.solvent, b.xtb_args,
           k.attempts, b.max_attempts, k.lease_expires_at
      from claimed k
      join public.batch_jobs b on b.id = k.batch_job_id
      join public.molecules m on m.id = k.molecule_id
     where k.status = 'claimed'
     order by k.priority desc, k.seq;
  else
    -- As the user, under RLS: that user's items only.
    return query
    with candidate as (
      select i.id,
             i.status = 'claimed' as expired,
             i.status = 'claimed' and i.attempts >= b.max_attempts as exhausted
        from public.batch_items i
        join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
       where i.user_id = v_user
         and (i.status = 'pending' or (i.status = 'claimed' and i.lease_expires_at < now()))
         and b.status in ('pending', 'running')
         and (p_batch_id is null or i.batch_job_id = p_batch_id)
         and (p_methods is null or b.method = any (p_methods))
       order by i.priority desc, i.seq
       limit p_limit
         for update of i skip locked
    ),
    claimed as (
      update public.batch_items i
         set status = case when c.exhausted then 'failed' else 'claimed' end,
             attempts = i.attempts + case when c.exhausted then 0 else 1 end,
             claimed_by = case when c.exhausted then i.claimed_by else p_runner_id end,
             lease_expires_at = case when c.exhausted then null
                                     else now() + make_interval(secs => p_lease_seconds) end,
             last_error = case when c.expired
                               then format('lease expired: runner %s did not report attempt %s', i.claimed_by, i.attempts)
                               else i.last_error end,
             attempt_history =
               case when c.expired
                    then public.batch_item_close_attempt(i.attempt_history, i.claimed_by, 'lease_expired',
                           format('lease expired at %s', i.lease_expires_at), i.lease_expires_at)
                    else i.attempt_history end
               || case when c.exhausted then '[]'::jsonb
                       else jsonb_build_array(jsonb_build_object(
                              'attempt', i.attempts + 1, 'runner', p_runner_id, 'started_at', now(),
                              'ended_at', null, 'outcome', 'claimed', 'error', null)) end
        from candidate c
       where i.id = c.id
      returning i.id, i.batch_job_id, i.user_id, i.molecule_id, i.name, i.charge, i.multiplicity,
                i.input_geometry, i.status, i.attempts, i.lease_expires_at, i.priority, i.seq
    )
    select k.id, k.batch_job_id, k.user_id, k.molecule_id, m.canonical_smiles, coalesce(k.name, m.name),
           k.charge, k.multiplicity, k.input_geometry, b.method, b.task, b.solvent, b.xtb_args,
           k.attempts, b.max_attempts, k.lease_expires_at
      from claimed k
      join public.batch_jobs b on b.id = k.batch_job_id
      join public.molecules m on m.id = k.molecule_id
     where k.status = 'claimed'
     order by k.priority desc, k.seq;
  end if;
end;
$$;

comment on function public.claim_batch_items(text, integer, integer, uuid, text[], boolean) is
  'Claims up to p_limit pending (or lease-expired) items for a runner under a lease of p_lease_seconds, in one '
  'statement with FOR UPDATE SKIP LOCKED. The caller''s items, or every user''s with p_all_users (service_role only).';

-- ---------------------------------------------------------------------------------------------
-- heartbeat_batch_items: extends the leases of the items this runner still holds (including an
-- expired lease nobody took yet) and reports the others as they are. Items the caller cannot see
-- are simply absent from the result.
-- ---------------------------------------------------------------------------------------------
create function public.heartbeat_batch_items(
  p_runner_id     text,
  p_item_ids      uuid[],
  p_lease_seconds integer,
  p_all_users     boolean default false
)
  returns table (item_id uuid, held boolean, status text, claimed_by text, lease_expires_at timestamptz)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
begin
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception 'heartbeat_batch_items: lease_seconds must be 30 to 3600, got %', p_lease_seconds
      using errcode = 'invalid_parameter_value';
  end if;

  return query
  with visible as (
    select i.id, i.status, i.claimed_by, i.lease_expires_at
      from public.batch_items i
     where i.id = any (p_item_ids)
       and (p_all_users or i.user_id = v_user)
     order by i.id
       for update of i
  ),
  extended as (
    update public.batch_items i
       set lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      from visible v
     where i.id = v.id
       and v.status = 'claimed'
       and v.claimed_by = p_runner_id
    returning i.id, i.lease_expires_at
  )
  select v.id, e.id is not null, v.status, v.claimed_by, coalesce(e.lease_expires_at, v.lease_expires_at)
    from visible v
    left join extended e on e.id = v.id;
end;
$$;

comment on function public.heartbeat_batch_items(text, uuid[], integer, boolean) is
  'Extends the leases of the given items that p_runner_id still holds; returns every visible item with held true/false.';

-- ---------------------------------------------------------------------------------------------
-- fail_batch_item: records a failed attempt. The item goes back to pending while attempts remain
-- and the class is retryable, fails for good otherwise, and stays cancelled if its batch was
-- cancelled meanwhile. A repeat of the same report (a client retry) changes nothing.
-- ---------------------------------------------------------------------------------------------
create function public.fail_batch_item(
  p_item_id     uuid,
  p_runner_id   text,
  p_error_class text,
  p_message     text,
  p_all_users   boolean default false
)
  returns table (outcome text, status text, attempts integer, max_attempts integer, claimed_by text)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
  v_item record;
  v_last jsonb;
  v_status text;
begin
  if p_error_class is null or p_error_class not in ('scf_not_converged', 'opt_not_converged', 'timeout', 'crash', 'invalid_input') then
    raise exception 'fail_batch_item: unknown error class %', p_error_class using errcode = 'invalid_parameter_value';
  end if;

  select i.id, i.status, i.claimed_by, i.attempts, i.attempt_history, i.calculation_id, b.max_attempts
    into v_item
    from public.batch_items i
    join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
   where i.id = p_item_id
     and (p_all_users or i.user_id = v_user)
     for update of i;
  if not found then
    return query select 'not_found', null::text, null::integer, null::integer, null::text;
    return;
  end if;

  v_last := v_item.attempt_history -> -1;
  if v_item.status in ('pending', 'failed', 'cancelled')
     and v_last ->> 'runner' = p_runner_id
     and v_last ->> 'outcome' = p_error_class
     and (v_last ->> 'attempt')::integer = v_item.attempts then
    return query select 'already_recorded', v_item.status, v_item.attempts, v_item.max_attempts, v_item.claimed_by;
    return;
  end if;

  if v_item.claimed_by is distinct from p_runner_id
     or not (v_item.status = 'claimed' or (v_item.status = 'cancelled' and v_item.calculation_id is null)) then
    return query select 'not_held', v_item.status, v_item.attempts, v_item.max_attempts, v_item.claimed_by;
    return;
  end if;

  v_status := case
    when v_item.status = 'cancelled' then 'cancelled'
    when p_error_class <> 'invalid_input' and v_item.attempts < v_item.max_attempts then 'pending'
    else 'failed'
  end;

  update public.batch_items i
     set status = v_status,
         claimed_by = case when v_status = 'pending' then null else i.claimed_by end,
         lease_expires_at = null,
         last_error = left(p_error_class || ': ' || p_message, 10000),
         attempt_history = public.batch_item_close_attempt(i.attempt_history, p_runner_id, p_error_class,
                             left(p_message, 10000), now())
   where i.id = v_item.id;

  return query select 'recorded', v_status, v_item.attempts, v_item.max_attempts,
                      case when v_status = 'pending' then null else v_item.claimed_by end;
end;
$$;

comment on function public.fail_batch_item(uuid, text, text, text, boolean) is
  'Records a failed attempt of an item held by p_runner_id: back to pending while attempts remain and the class is '
  'retryable (all but invalid_input), failed otherwise. Outcome: recorded, already_recorded, not_found or not_held.';

-- ---------------------------------------------------------------------------------------------
-- complete_batch_items: after the caller stored the results (public.ingest_calculations, same
-- transaction), marks the items completed and links them with their calculations, both ways.
-- The caller has locked the items and checked that p_runner_id holds them; the conditions are
-- repeated here, and if any item is not held nothing is completed.
-- ---------------------------------------------------------------------------------------------
create function public.complete_batch_items(p_runner_id text, p_item_ids uuid[], p_calculation_ids uuid[])
  returns table (item_id uuid, calculation_id uuid)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(false);
  v_done integer;
begin
  if cardinality(p_item_ids) is distinct from cardinality(p_calculation_ids) then
    raise exception 'complete_batch_items: % item ids but % calculation ids', cardinality(p_item_ids), cardinality(p_calculation_ids)
      using errcode = 'invalid_parameter_value';
  end if;

  update public.batch_items i
     set status = 'completed',
         calculation_id = u.calculation_id,
         lease_expires_at = null,
         last_error = null,
         attempt_history = public.batch_item_close_attempt(i.attempt_history, p_runner_id, 'completed', null, now())
    from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id)
   where i.id = u.item_id
     and i.user_id = v_user
     and i.claimed_by = p_runner_id
     and (i.status = 'claimed' or (i.status = 'cancelled' and i.calculation_id is null));
  get diagnostics v_done = row_count;
  if v_done <> cardinality(p_item_ids) then
    raise exception 'complete_batch_items: runner % does not hold % of the % items', p_runner_id,
      cardinality(p_item_ids) - v_done, cardinality(p_item_ids)
      using errcode = 'object_not_in_prerequisite_state';
  end if;

  -- A calculation points back at the first item that produced it. Ingest already set the link on
  -- the rows it created; only a result that matched an existing calculation may lack it, so the
  -- update (and the calculations triggers it fires) runs only then.
  if exists (select 1 from public.calculations k
              where k.id = any (p_calculation_ids) and k.user_id = v_user and k.batch_item_id is null) then
    update public.calculations k
       set batch_item_id = d.item_id
      from (select distinct on (u.calculation_id) u.item_id, u.calculation_id
              from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id)
             order by u.calculation_id, u.item_id) d
     where k.id = d.calculation_id
       and k.user_id = v_user
       and k.batch_item_id is null;
  end if;

  return query select u.item_id, u.calculation_id from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id);
end;
$$;

comment on function public.complete_batch_items(text, uuid[], uuid[]) is
  'Marks items held by p_runner_id completed and links each with its stored calculation (both directions); '
  'all or nothing.';

-- ---------------------------------------------------------------------------------------------
-- cancel_batch: a pending or running batch becomes cancelled; the batch_counters trigger cancels
-- its pending and claimed items. Claimed ones keep claimed_by, so their runner may still report:
-- a late result completes the item, nothing is reissued. Their open attempt is closed as
-- `cancelled` here.
-- ---------------------------------------------------------------------------------------------
create function public.cancel_batch(p_batch_id uuid, p_all_users boolean default false)
  returns table (outcome text, cancelled_items integer)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
  v_status text;
  v_before integer;
  v_after integer;
begin
  select b.status into v_status
    from public.batch_jobs b
   where b.id = p_batch_id and (p_all_users or b.user_id = v_user);
  if not found then
    return query select 'not_found', 0;
    return;
  end if;
  if v_status = 'cancelled' then
    return query select 'already_cancelled', 0;
    return;
  end if;

  -- Items before the batch row (the order every item change uses), so that a runner claiming or
  -- completing at this moment waits or is waited for, and never deadlocks with us.
  perform 1
     from public.batch_items i
    where i.batch_job_id = p_batch_id
      and i.status in ('pending', 'claimed')
    order by i.id
      for update of i;

  select b.status, b.cancelled_items into v_status, v_before
    from public.batch_jobs b
   where b.id = p_batch_id
     for no key update;
  if v_status = 'cancelled' then
    return query select 'already_cancelled', 0;
    return;
  end if;
  if v_status not in ('pending', 'running') then
    return query select 'finished:' || v_status, 0;
    return;
  end if;

  update public.batch_jobs b set status = 'cancelled' where b.id = p_batch_id;

  update public.batch_items i
     set attempt_history = public.batch_item_close_attempt(i.attempt_history, i.claimed_by, 'cancelled',
                             'batch cancelled', now())
   where i.batch_job_id = p_batch_id
     and i.status = 'cancelled'
     and i.claimed_by is not null
     and i.calculation_id is null
     and (i.attempt_history -> -1 ->> 'ended_at') is null;

  select b.cancelled_items into v_after from public.batch_jobs b where b.id = p_batch_id;
  return query select 'cancelled', v_after - v_before;
end;
$$;

comment on function public.cancel_batch(uuid, boolean) is
  'Cancels a pending or running batch (its pending and claimed items become cancelled). Outcome: cancelled, '
  'already_cancelled, not_found or finished:<status>.';

-- ---------------------------------------------------------------------------------------------
-- retry_batch: the failed items of a batch go back to pending with fresh attempts (their history
-- is kept); the counter trigger makes a finished batch running again.
-- ---------------------------------------------------------------------------------------------
create function public.retry_batch(p_batch_id uuid, p_all_users boolean default false)
  returns table (outcome text, retried_items integer)
  language plpgsql
  security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
  v_status text;
  v_retried integer;
begin
  if not exists (select 1 from public.batch_jobs b where b.id = p_batch_id and (p_all_users or b.user_id = v_user)) then
    return query select 'not_found', 0;
    return;
  end if;

  -- Items first, then the batch row, as everywhere else.
  perform 1
     from public.batch_items i
    where i.batch_job_id = p_batch_id and i.status = 'failed'
    order by i.id
      for update of i;
  select b.status into v_status from public.batch_jobs b where b.id = p_batch_id for no key update;
  if v_status = 'cancelled' then
    return query select 'cancelled', 0;
    return;
  end if;

  update public.batch_items i
     set status = 'pending',
         attempts = 0,
         claimed_by = null,
         lease_expires_at = null,
         last_error = null
   where i.batch_job_id = p_batch_id
     and i.status = 'failed';
  get diagnostics v_retried = row_count;

  return query select 'retried', v_retried;
end;
$$;

comment on function public.retry_batch(uuid, boolean) is
  'Sends the failed items of a batch back to pending with fresh attempts. Outcome: retried, not_found or cancelled.';

-- ---------------------------------------------------------------------------------------------
-- Grants: the API roles call these; nobody else.
-- ---------------------------------------------------------------------------------------------
revoke execute on function
  public.batch_caller(boolean),
  public.batch_item_close_attempt(jsonb, text, text, text, timestamptz),
  public.add_batch_items(uuid, jsonb, jsonb),
  public.create_batch(jsonb, jsonb, jsonb),
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean),
  public.heartbeat_batch_items(text, uuid[], integer, boolean),
  public.fail_batch_item(uuid, text, text, text, boolean),
  public.complete_batch_items(text, uuid[], uuid[]),
  public.cancel_batch(uuid, boolean),
  public.retry_batch(uuid, boolean)
  from public, anon;

grant execute on function
  public.batch_caller(boolean),
  public.batch_item_close_attempt(jsonb, text, text, text, timestamptz),
  public.add_batch_items(uuid, jsonb, jsonb),
  public.create_batch(jsonb, jsonb, jsonb),
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean),
  public.heartbeat_batch_items(text, uuid[], integer, boolean),
  public.fail_batch_item(uuid, text, text, text, boolean),
  public.complete_batch_items(text, uuid[], uuid[]),
  public.cancel_batch(uuid, boolean),
  public.retry_batch(uuid, boolean)
  to authenticated, service_role;
