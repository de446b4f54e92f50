-- Cancelling a batch, and sending its failed items back to the queue.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- cancel_batch: a pending or running batch becomes cancelled; the batch_counters trigger cancels
-- its pending and claimed items. Claimed ones keep claimed_by, so their runner may still report:
-- a late result completes the item, nothing is reissued. Their open attempt is closed as
-- `cancelled` here.
-- ---------------------------------------------------------------------------------------------
create function public.cancel_batch(p_batch_id uuid, p_all_users boolean default false)
  returns table (outcome text, cancelled_items integer)
  language plpgsql security invoker set search_path = ''
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
-- retry_batch: the failed items of a batch go back to pending with a fresh round of attempts
-- (their history and total_attempts are kept), except an item whose molecule is gone (see
-- migration batches) and one that has had its batch_item_attempt_limit() attempts in all: those
-- stay failed, the latter counted in exhausted_items (their last_error said so when the limit was
-- reached), so that no retry loop holds the shared fleet. The counter trigger makes a finished
-- batch running again. Outcome `exhausted` when failed items remain and none could be retried.
-- ---------------------------------------------------------------------------------------------
create function public.retry_batch(p_batch_id uuid, p_all_users boolean default false)
  returns table (outcome text, retried_items integer, exhausted_items integer)
  language plpgsql security invoker set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
  v_status text;
  v_retried integer;
  v_exhausted integer;
  v_limit integer := public.batch_item_attempt_limit();
begin
  if not exists (select 1 from public.batch_jobs b where b.id = p_batch_id and (p_all_users or b.user_id = v_user)) then
    return query select 'not_found', 0, 0;
    return;
  end if;

  -- Items first, then the batch row, as everywhere else.
  perform 1
     from public.batch_items i
    where i.batch_job_id = p_batch_id and i.status = 'failed' and i.molecule_id is not null
    order by i.id
      for update of i;
  select b.status into v_status from public.batch_jobs b where b.id = p_batch_id for no key update;
  if v_status = 'cancelled' then
    return query select 'cancelled', 0, 0;
    return;
  end if;

  update public.batch_items i
     set status = 'pending',
         attempts = 0,
         claimed_by = null,
         lease_expires_at = null,
         last_error = null
   where i.batch_job_id = p_batch_id
     and i.status = 'failed'
     and i.molecule_id is not null
     and i.total_attempts < v_limit;
  get diagnostics v_retried = row_count;

  select count(*) into v_exhausted
    from public.batch_items i
   where i.batch_job_id = p_batch_id
     and i.status = 'failed'
     and i.molecule_id is not null
     and i.total_attempts >= v_limit;

  return query select case when v_retried = 0 and v_exhausted > 0 then 'exhausted' else 'retried' end,
                      v_retried, v_exhausted;
end;
$$;

comment on function public.retry_batch(uuid, boolean) is
  'Sends the failed items of a batch whose molecule still exists and whose attempts in all are below '
  'batch_item_attempt_limit() back to pending with a fresh round of attempts. Outcome: retried, exhausted (none '
  'could be retried), not_found or cancelled.';

revoke execute on function
  public.cancel_batch(uuid, boolean),
  public.retry_batch(uuid, boolean)
  from public, anon, authenticated;
grant execute on function
  public.cancel_batch(uuid, boolean),
  public.retry_batch(uuid, boolean)
  to qf_api, service_role;
