-- Completing claimed items with their stored results, in two steps of one transaction:
--   public.lock_items_for_completion   locks the items and answers, per item, whether the runner
--                                      may complete it, with what the result must match;
--   (the caller stores the results it may: public.ingest_calculations)
--   public.complete_batch_items        marks them completed and links them with the results.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- lock_items_for_completion: locks the given items of the caller (in id order, the lock order of
-- migration batch_queue_helpers) and answers one row per id given:
--   completable        the runner holds it (public.batch_item_held);
--   already_completed  this runner completed it before (a retried request): its calculation;
--   not_held           another runner holds it, or it is pending, failed or finished;
--   not_found          no such item, or not the caller's.
-- With the item's molecule and the batch's settings and specification, which the result must match.
-- ---------------------------------------------------------------------------------------------
create function public.lock_items_for_completion(p_runner_id text, p_item_ids uuid[])
  returns table (item_id uuid, outcome text, status text, calculation_id uuid, molecule_id uuid, inchikey text,
                 molecule_key text, method text, task text, solvent text, charge integer, multiplicity integer, xtb_args text[],
                 spec jsonb)
  language plpgsql security invoker set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with locked as materialized (
    select i.id, i.status, i.claimed_by, i.calculation_id, i.molecule_id, i.charge, i.multiplicity,
           m.inchikey, m.molecule_key, b.method, b.task, b.solvent, b.xtb_args
      from public.batch_items i
      join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
      join public.molecules m on m.id = i.molecule_id and m.user_id = i.user_id
     where i.id = any (p_item_ids)
       and i.user_id = public.batch_caller(false)
     order by i.id
       for update of i
  )
  select u.id,
         case
           when l.id is null then 'not_found'
           when l.status = 'completed' and l.claimed_by = p_runner_id and l.calculation_id is not null
             then 'already_completed'
           when public.batch_item_held(l.status, l.claimed_by, l.calculation_id, p_runner_id) then 'completable'
           else 'not_held'
         end,
         l.status, l.calculation_id, l.molecule_id, l.inchikey, l.molecule_key, l.method, l.task, l.solvent, l.charge,
         l.multiplicity, l.xtb_args,
         case when l.id is not null then public.xtb_specification(l.method, l.task, l.solvent, l.xtb_args) end
    from unnest(p_item_ids) with ordinality as u(id, n)
    left join locked l on l.id = u.id
   order by u.n;
end;
$$;

comment on function public.lock_items_for_completion(text, uuid[]) is
  'Locks the caller''s items p_item_ids and answers per id: completable, already_completed, not_held or not_found, '
  'with the item''s molecule (InChIKey and molecule key), the batch''s settings and specification.';

revoke execute on function public.lock_items_for_completion(text, uuid[]) from public, anon, authenticated;
grant execute on function public.lock_items_for_completion(text, uuid[]) to qf_api, service_role;

-- ---------------------------------------------------------------------------------------------
-- complete_batch_items: after the caller stored the results (public.ingest_calculations, same
-- transaction), marks the items completed and links them with their calculations, both ways.
-- The caller has locked the items with lock_items_for_completion and passes only completable
-- ones; if any item is no longer held nothing is completed. Each calculation also gets its
-- batch's tags (appended after its own, each once), so `tag=` finds a batch's results.
-- ---------------------------------------------------------------------------------------------
create function public.complete_batch_items(p_runner_id text, p_item_ids uuid[], p_calculation_ids uuid[])
  returns table (item_id uuid, calculation_id uuid)
  language plpgsql security invoker set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(false);
  v_done integer;
  v_batches uuid[];
begin
  if cardinality(p_item_ids) is distinct from cardinality(p_calculation_ids) then
    raise exception 'complete_batch_items: % item ids but % calculation ids', cardinality(p_item_ids), cardinality(p_calculation_ids)
      using errcode = 'invalid_parameter_value';
  end if;

  -- The batches the items belong to (one, as a rule) come back from the update, so that the tags
  -- step below can be skipped without looking the items up again.
  with done as (
    update public.batch_items i
       set status = 'completed',
           calculation_id = u.calculation_id,
           lease_expires_at = null,
           last_error = null,
           attempt_history = public.batch_item_close_attempt(i.attempt_history, p_runner_id, 'completed', null, now())
      from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id)
     where i.id = u.item_id
       and i.user_id = v_user
       and public.batch_item_held(i.status, i.claimed_by, i.calculation_id, p_runner_id)
    returning i.batch_job_id
  )
  select count(*), array_agg(distinct batch_job_id) into v_done, v_batches from done;
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
  -- updated). A batch without tags, the usual case, skips the statement: its join looks up every
  -- item and calculation again only to find nothing to add.
  if exists (select 1 from public.batch_jobs b
              where b.id = any (v_batches) and b.user_id = v_user and cardinality(b.tags) > 0) then
    update public.calculations k
       set tags = k.tags || array(select t from unnest(b.tags) with ordinality as x(t, n)
                                   where not t = any (k.tags) order by n)
      from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id)
      join public.batch_items i on i.id = u.item_id and i.user_id = v_user
      join public.batch_jobs b on b.id = i.batch_job_id and b.user_id = i.user_id
     where k.id = u.calculation_id
       and k.user_id = v_user
       and not k.tags @> b.tags;
  end if;

  return query select u.item_id, u.calculation_id from unnest(p_item_ids, p_calculation_ids) as u(item_id, calculation_id);
end;
$$;

comment on function public.complete_batch_items(text, uuid[], uuid[]) is
  'Marks items held by p_runner_id completed and links each with its stored calculation (both directions), '
  'adding the batch''s tags to the calculation; all or nothing.';

revoke execute on function
  public.complete_batch_items(text, uuid[], uuid[])
  from public, anon, authenticated;
grant execute on function
  public.complete_batch_items(text, uuid[], uuid[])
  to qf_api, service_role;
