-- The audit trail, completed: every event says who acted, batches and their items are on the
-- record, and failures the functions could not answer are kept as `error` events.
--
-- Why (issue 16): batch creation wrote no event, no event said who acted (the service-role key
-- acting for a user looked like the user), and the `error` type was never written.
--
--   event_logs.actor      who acted, from request.jwt.claims -> 'actor', which the functions set in
--                         every transaction (supabase/functions/_shared/db.ts, withCaller):
--                           {"role": "authenticated", "sub": <user>, "key": "sha256:…"}
--                           {"role": "service_role", "acting_for": <user>, "key": "sha256:…"}
--                         `key` is the first 16 hex digits of the SHA-256 of the presented token
--                         or key: which key acted, without revealing it. Claims without actor facts
--                         (a session that did not come through the functions) give the role and
--                         user they name with "via": "claims"; no claims at all (the owner's own
--                         maintenance) give {"role": "database", "db_user": <login role>}. It is
--                         the column's default, so every trigger and function that inserts events
--                         records it without naming it (none of them is redefined here). Events
--                         written before this migration have {}.
--   batch_created         one per batch_jobs row inserted (statement-level trigger).
--   batch_item_created    one per batch_items row inserted.
--   batch_item_updated    one per batch_items row whose status, molecule or calculation changed:
--                         a claim, a completion, a failure, a requeue, a cancel, and the unlinking
--                         that deleting its molecule or calculation causes (migration
--                         batch_item_deletes). Lease renewals (heartbeats) write nothing.
--   batch_item_deleted    one per batch_items row deleted (with its batch, as a rule).
--   error                 public.log_error_event(payload), called by the functions' error handler
--                         after a 5xx answer (supabase/functions/_shared/error-events.ts).
--
-- The new triggers are statement-level with transition tables, one per table and event, as in
-- migration event_triggers; the functions are `security definer` because no API role may write
-- event_logs.

-- ---------------------------------------------------------------------------------------------
-- event_logs.actor
-- ---------------------------------------------------------------------------------------------
-- A constant default first, so existing rows get {} without a rewrite; then the real one. The real
-- one is an expression of built-in functions rather than a function of ours: it is evaluated once
-- per event row, and a SQL function with its own search_path (which every function here must
-- have) is never inlined, so it would be a function call per row.
alter table public.event_logs
  add column actor jsonb not null default '{}',
  add constraint event_logs_actor_object check (jsonb_typeof(actor) = 'object');
alter table public.event_logs alter column actor set default (
  case
    when nullif(current_setting('request.jwt.claims', true), '') is null
      then jsonb_build_object('role', 'database', 'db_user', session_user)
    when jsonb_typeof(current_setting('request.jwt.claims', true)::jsonb -> 'actor') = 'object'
      then current_setting('request.jwt.claims', true)::jsonb -> 'actor'
    else jsonb_strip_nulls(jsonb_build_object(
      'role', current_setting('request.jwt.claims', true)::jsonb ->> 'role',
      'sub', current_setting('request.jwt.claims', true)::jsonb ->> 'sub',
      'via', 'claims'))
  end);

comment on column public.event_logs.actor is
  'Who acted, from request.jwt.claims -> ''actor'' as the functions set it: {"role", "sub" (a user''s own token), '
  '"acting_for" (the service-role key acting for a user), "key" (sha256: and 16 hex digits of the presented token)}. '
  'Claims without actor facts: their role and sub, with "via": "claims". No claims: {"role": "database", "db_user"}. '
  '{} for events written before actors were recorded.';

-- ---------------------------------------------------------------------------------------------
-- The new event types
-- ---------------------------------------------------------------------------------------------
alter table public.event_logs drop constraint event_logs_event_type_valid;
alter table public.event_logs add constraint event_logs_event_type_valid check (event_type in (
  'calculation_started',    -- a calculation became running
  'calculation_completed',  -- a calculation became completed
  'calculation_failed',     -- a calculation became failed
  'calculation_deleted',    -- a calculation was deleted
  'batch_created',          -- a batch was created
  'batch_started',          -- a batch went from pending to running (first claim)
  'batch_completed',        -- a batch finished with no failed item
  'batch_failed',           -- a batch finished with at least one failed item
  'batch_cancelled',        -- a batch was cancelled
  'batch_deleted',          -- a batch was deleted
  'batch_item_created',     -- an item was added to a batch
  'batch_item_updated',     -- an item's status, molecule or calculation changed
  'batch_item_deleted',     -- an item was deleted
  'molecule_created',       -- a molecule was inserted
  'molecule_deleted',       -- a molecule was deleted
  'dataset_created',        -- a dataset was created (migration datasets)
  'release_created',        -- a release of a dataset was sealed
  'release_withdrawn',      -- a release was withdrawn: a member was deleted or changed with force
  'error',                  -- a failure the functions could not answer (public.log_error_event)
  'performance_metric'      -- timings reported by a function (public.log_performance_metric)
));

-- ---------------------------------------------------------------------------------------------
-- batch_jobs insert -> batch_created
-- ---------------------------------------------------------------------------------------------
create function public.batch_jobs_log_created()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
  select 'batch_created', 'batch_job', b.id, b.user_id,
         jsonb_strip_nulls(jsonb_build_object(
           'name', b.name,
           'method', b.method,
           'task', b.task,
           'solvent', b.solvent,
           'priority', b.priority,
           'max_attempts', b.max_attempts))
    from new_rows b;
  return null;
end;
$$;

comment on function public.batch_jobs_log_created() is
  'AFTER INSERT statement trigger on batch_jobs: one batch_created event per row.';
revoke execute on function public.batch_jobs_log_created() from public, anon, authenticated, service_role;

create trigger batch_jobs_log_events_after_insert
  after insert on public.batch_jobs
  referencing new table as new_rows
  for each statement execute function public.batch_jobs_log_created();

-- ---------------------------------------------------------------------------------------------
-- batch_items -> batch_item_created / _updated / _deleted
-- ---------------------------------------------------------------------------------------------
create function public.batch_items_log_events()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
  -- PL/pgSQL keeps the plan of its first call in a session, made for that call's transition
  -- tables: a nested loop of old × new rows when they held a row or two. Reused for 10,000 rows
  -- (cancelling a batch at its size limit) it compared 10^8 pairs: 62 s, against 1.4 s hashed,
  -- measured on this machine at load ~15. A hash join is never a bad plan for this join.
  set enable_nestloop = off
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'batch_item_created', 'batch_item', i.id, i.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'batch_job_id', i.batch_job_id,
             'molecule_id', i.molecule_id,
             'name', i.name,
             'status', i.status))
      from new_rows i;
  elsif tg_op = 'UPDATE' then
    -- Only rows whose status, molecule or calculation changed; a heartbeat writes nothing.
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'batch_item_updated', 'batch_item', n.id, n.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'batch_job_id', n.batch_job_id,
             'status', n.status,
             'previous_status', case when n.status is distinct from o.status then o.status end,
             'attempts', n.attempts,
             'claimed_by', n.claimed_by,
             'molecule_id', n.molecule_id,
             'previous_molecule_id', case when n.molecule_id is distinct from o.molecule_id then o.molecule_id end,
             'calculation_id', n.calculation_id,
             'previous_calculation_id',
               case when n.calculation_id is distinct from o.calculation_id then o.calculation_id end,
             'last_error', case when n.status in ('pending', 'failed') then left(n.last_error, 1000) end))
      from new_rows n
      join old_rows o on o.id = n.id
     where n.status is distinct from o.status
        or n.molecule_id is distinct from o.molecule_id
        or n.calculation_id is distinct from o.calculation_id;
  elsif tg_op = 'DELETE' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'batch_item_deleted', 'batch_item', i.id, i.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'batch_job_id', i.batch_job_id,
             'molecule_id', i.molecule_id,
             'calculation_id', i.calculation_id,
             'status', i.status))
      from old_rows i;
  end if;
  return null;
end;
$$;

comment on function public.batch_items_log_events() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on batch_items: batch_item_created, batch_item_updated (status, '
  'molecule or calculation changed; nothing for other changes), batch_item_deleted. One event per changed row.';
revoke execute on function public.batch_items_log_events() from public, anon, authenticated, service_role;

create trigger batch_items_log_events_after_insert
  after insert on public.batch_items
  referencing new table as new_rows
  for each statement execute function public.batch_items_log_events();

create trigger batch_items_log_events_after_update
  after update on public.batch_items
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.batch_items_log_events();

create trigger batch_items_log_events_after_delete
  after delete on public.batch_items
  referencing old table as old_rows
  for each statement execute function public.batch_items_log_events();

-- ---------------------------------------------------------------------------------------------
-- error events, written by the functions' error handler
-- ---------------------------------------------------------------------------------------------
create function public.log_error_event(payload jsonb)
  returns bigint
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  event_id bigint;
begin
  if caller is null then
    raise exception 'log_error_event: no user in the request claims'
      using errcode = 'insufficient_privilege';
  end if;
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception 'log_error_event: payload must be a JSON object'
      using errcode = 'invalid_parameter_value';
  end if;
  if octet_length(payload::text) > 4096 then
    raise exception 'log_error_event: payload is larger than 4 kB'
      using errcode = 'program_limit_exceeded';
  end if;
  insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
  values ('error', 'function', null, caller, payload)
  returning id into event_id;
  return event_id;
end;
$$;

comment on function public.log_error_event(jsonb) is
  'Appends an error event (at most 4 kB of JSON) for the calling user (auth.uid()); for the functions'' error '
  'handler only (qf_api). Returns its id.';
revoke execute on function public.log_error_event(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.log_error_event(jsonb) to qf_api;
