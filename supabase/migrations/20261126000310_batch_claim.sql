-- Claiming items under a lease.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- claim_batch_items: ONE statement, for a user's items or all users'. Candidates are
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
  set plan_cache_mode = force_custom_plan
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
  p_all_users := coalesce(p_all_users, false);  -- null is a user's claim, as in batch_caller

  -- One statement for both modes, planned for each call's mode. The plan is made for the values
  -- of this call (plan_cache_mode = force_custom_plan, set on the function), so p_all_users is a
  -- constant to the planner: the filter and the ORDER BY fold to those of the mode, and
  --   a user's claim     user_id = v_user, order by priority desc, seq
  --                      walks batch_items_user_id_claim_order_idx (user_id, priority desc, seq);
  --   an all-users claim (RLS bypassed: service_role, checked by batch_caller) order by
  --                      -priority, seq, which only batch_items_claim_order_idx delivers.
  -- A generic plan, which PostgreSQL may otherwise cache after five calls, could not use either
  -- index (the mode would be unknown) and would sort every waiting item on each claim.
  -- test/batches/claim-plan.test.ts reads both plans with auto_explain.
  return query
  with candidate as (
    select i.id,
           i.status = 'claimed' as expired,
           i.status = 'claimed' and i.attempts >= b.max_attempts as exhausted
      from public.batch_items i
      join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
     where (p_all_users or i.user_id = v_user)
       and (i.status = 'pending' or (i.status = 'claimed' and i.lease_expires_at < now()))
       and b.status in ('pending', 'running')
       and (p_batch_id is null or i.batch_job_id = p_batch_id)
       and (p_methods is null or b.method = any (p_methods))
     order by case when p_all_users then -i.priority end,
              case when not p_all_users then i.priority end desc,
              i.seq
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
end;
$$;

comment on function public.claim_batch_items(text, integer, integer, uuid, text[], boolean) is
  'Claims up to p_limit pending (or lease-expired) items for a runner under a lease of p_lease_seconds, in one '
  'statement with FOR UPDATE SKIP LOCKED. The caller''s items, or every user''s with p_all_users (service_role only).';

revoke execute on function
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean)
  from public, anon, authenticated;
grant execute on function
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean)
  to qf_api, service_role;
