-- Keeping the leases of claimed items alive.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

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
  language plpgsql security invoker set search_path = ''
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

revoke execute on function
  public.heartbeat_batch_items(text, uuid[], integer, boolean)
  from public, anon, authenticated;
grant execute on function
  public.heartbeat_batch_items(text, uuid[], integer, boolean)
  to qf_api, service_role;
