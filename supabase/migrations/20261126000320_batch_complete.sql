-- Completing claimed items with their stored results.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- complete_batch_items: after the caller stored the results (public.ingest_calculations, same
-- transaction), marks the items completed and links them with their calculations, both ways.
-- The caller has locked the items and checked that p_runner_id holds them; the conditions are
-- repeated here, and if any item is not held nothing is completed. Each calculation also gets its
-- batch's tags (appended after its own, each once), so `tag=` finds a batch's results.
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

  -- The batch's tags, added to each calculation that lacks one of them (only those rows are
  -- updated, so a batch without tags costs no write).
  update public.calculations k
     set tags = k.tags || array(select t from unnest(b.tags) with ordinality as x(t, n)
                                 where not t = any (k.tags) order by n)
    from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id)
    join public.batch_items i on i.id = u.item_id and i.user_id = v_user
    join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
   where k.id = u.calculation_id
     and k.user_id = v_user
     and not k.tags @> b.tags;

  return query select u.item_id, u.calculation_id from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id);
end;
$$;

comment on function public.complete_batch_items(text, uuid[], uuid[]) is
  'Marks items held by p_runner_id completed and links each with its stored calculation (both directions), '
  'adding the batch''s tags to the calculation; all or nothing.';

revoke execute on function
  public.complete_batch_items(text, uuid[], uuid[])
  from public, anon;
grant execute on function
  public.complete_batch_items(text, uuid[], uuid[])
  to authenticated, service_role;
