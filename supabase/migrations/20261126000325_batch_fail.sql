-- Recording a failed attempt of a claimed item.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- fail_batch_item: records a failed attempt. The item goes back to pending while attempts remain
-- and the class is retryable, fails for good otherwise (also once it has had its
-- batch_item_attempt_limit() attempts in all, across retries), and stays cancelled if its batch was
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
  language plpgsql security invoker set search_path = ''
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

  select i.id, i.status, i.claimed_by, i.attempts, i.total_attempts, i.attempt_history, i.calculation_id,
         b.max_attempts
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

  if not public.batch_item_held(v_item.status, v_item.claimed_by, v_item.calculation_id, p_runner_id) then
    return query select 'not_held', v_item.status, v_item.attempts, v_item.max_attempts, v_item.claimed_by;
    return;
  end if;

  v_status := case
    when v_item.status = 'cancelled' then 'cancelled'
    when p_error_class <> 'invalid_input' and v_item.attempts < v_item.max_attempts
         and v_item.total_attempts < public.batch_item_attempt_limit() then 'pending'
    else 'failed'
  end;

  update public.batch_items i
     set status = v_status,
         claimed_by = case when v_status = 'pending' then null else i.claimed_by end,
         lease_expires_at = null,
         -- The reason an item is failed for good by the attempt limit is said when it happens.
         last_error = left(p_error_class || ': ' || p_message
                           || case when v_status = 'failed' and p_error_class <> 'invalid_input'
                                        and v_item.total_attempts >= public.batch_item_attempt_limit()
                                   then format(' (attempt limit: %s attempts in all)', v_item.total_attempts)
                                   else '' end,
                           10000),
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

revoke execute on function
  public.fail_batch_item(uuid, text, text, text, boolean)
  from public, anon, authenticated;
grant execute on function
  public.fail_batch_item(uuid, text, text, text, boolean)
  to qf_api, service_role;
