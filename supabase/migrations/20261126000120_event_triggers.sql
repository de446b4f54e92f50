-- Event logging by triggers: every state change of molecules, calculations, batch_jobs and
-- batch_items appends exactly one row to event_logs.
--
-- All triggers are AFTER ... FOR EACH STATEMENT with transition tables, so a 10,000-row insert
-- costs one trigger call that writes 10,000 events with one insert ... select. PostgreSQL allows a
-- transition table only on a single-event trigger, hence one trigger per table and event
-- (insert, update, delete), each sharing its table's function (public.create_statement_triggers
-- attaches them). An update is compared row by row
-- (old and new transition tables joined on the primary key): a row whose status did not change,
-- including a no-op update, writes nothing.
--
--   molecules      insert -> molecule_created, delete -> molecule_deleted
--   calculations   insert or status change to running/completed/failed
--                      -> calculation_started / calculation_completed / calculation_failed
--                  (a retry, failed -> pending, writes nothing); delete -> calculation_deleted
--   batch_jobs     insert -> batch_created; status change: pending -> running -> batch_started;
--                  to completed, failed, cancelled -> batch_completed / batch_failed /
--                  batch_cancelled; delete -> batch_deleted
--   batch_items    insert -> batch_item_created; a change of status, molecule or calculation ->
--                  batch_item_updated: a claim, a completion, a failure, a requeue, a cancel, and
--                  the unlinking that deleting its molecule or calculation causes (migration
--                  batches). Lease renewals (heartbeats) write nothing. delete -> batch_item_deleted
--                  (with its batch, as a rule).
--
-- Every event records who acted through event_logs.actor's default (migration event_logs).
--
-- The functions are `security definer` (owner) because API roles cannot write event_logs.

-- ---------------------------------------------------------------------------------------------
-- molecules
-- ---------------------------------------------------------------------------------------------
create function public.molecules_log_events()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'molecule_created', 'molecule', m.id, m.user_id,
           jsonb_build_object('inchikey', m.inchikey, 'canonical_smiles', m.canonical_smiles, 'formula', m.formula)
      from new_rows m;
  elsif tg_op = 'DELETE' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'molecule_deleted', 'molecule', m.id, m.user_id,
           jsonb_build_object('inchikey', m.inchikey, 'canonical_smiles', m.canonical_smiles, 'formula', m.formula)
      from old_rows m;
  end if;
  return null;
end;
$$;

comment on function public.molecules_log_events() is
  'AFTER INSERT/DELETE statement trigger: one molecule_created / molecule_deleted event per row.';

select public.create_statement_triggers('public.molecules', 'public.molecules_log_events', '{insert, delete}');

-- ---------------------------------------------------------------------------------------------
-- calculations
-- ---------------------------------------------------------------------------------------------
create function public.calculations_log_events()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select case c.status
             when 'running' then 'calculation_started'
             when 'completed' then 'calculation_completed'
             else 'calculation_failed'
           end,
           'calculation', c.id, c.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'molecule_id', c.molecule_id,
             'batch_item_id', c.batch_item_id,
             'method', c.method,
             'task', c.task,
             'status', c.status,
             'total_energy_eh', c.total_energy_eh,
             'wall_time_s', c.wall_time_s,
             'error_message', left(c.error_message, 1000)))
      from new_rows c
     where c.status in ('running', 'completed', 'failed');
  elsif tg_op = 'UPDATE' then
    -- Only rows whose status changed; a retry (failed -> pending) writes nothing. The event is
    -- built as on insert, plus previous_status: old_rows exists only in the update trigger, so the
    -- insert cannot share this statement, and a per-row payload function would cost every
    -- 10,000-row ingest a call per row.
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select case c.status
             when 'running' then 'calculation_started'
             when 'completed' then 'calculation_completed'
             else 'calculation_failed'
           end,
           'calculation', c.id, c.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'molecule_id', c.molecule_id,
             'batch_item_id', c.batch_item_id,
             'method', c.method,
             'task', c.task,
             'status', c.status,
             'previous_status', o.status,
             'total_energy_eh', c.total_energy_eh,
             'wall_time_s', c.wall_time_s,
             'error_message', left(c.error_message, 1000)))
      from new_rows c
      join old_rows o on o.id = c.id
     where c.status is distinct from o.status
       and c.status in ('running', 'completed', 'failed');
  elsif tg_op = 'DELETE' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'calculation_deleted', 'calculation', c.id, c.user_id,
           jsonb_strip_nulls(jsonb_build_object(
             'molecule_id', c.molecule_id,
             'batch_item_id', c.batch_item_id,
             'method', c.method,
             'task', c.task,
             'status', c.status))
      from old_rows c;
  end if;
  return null;
end;
$$;

comment on function public.calculations_log_events() is
  'AFTER INSERT/UPDATE/DELETE statement trigger: calculation_started/_completed/_failed when a row reaches that '
  'status, calculation_deleted when it is deleted. One event per changed row; none for unchanged rows.';

select public.create_statement_triggers('public.calculations', 'public.calculations_log_events', '{insert, update, delete}');

-- ---------------------------------------------------------------------------------------------
-- batch_jobs
-- ---------------------------------------------------------------------------------------------
create function public.batch_jobs_log_events()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
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
  elsif tg_op = 'UPDATE' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select case n.status
             when 'running' then 'batch_started'
             when 'completed' then 'batch_completed'
             when 'failed' then 'batch_failed'
             else 'batch_cancelled'
           end,
           'batch_job', n.id, n.user_id,
           jsonb_build_object(
             'name', n.name,
             'status', n.status,
             'previous_status', o.status,
             'total_items', n.total_items,
             'completed_items', n.completed_items,
             'failed_items', n.failed_items,
             'cancelled_items', n.cancelled_items)
      from new_rows n
      join old_rows o on o.id = n.id
     where o.status is distinct from n.status
       and (n.status in ('completed', 'failed', 'cancelled')
            or (n.status = 'running' and o.status = 'pending'));
  elsif tg_op = 'DELETE' then
    insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
    select 'batch_deleted', 'batch_job', b.id, b.user_id,
           jsonb_build_object('name', b.name, 'status', b.status, 'total_items', b.total_items)
      from old_rows b;
  end if;
  return null;
end;
$$;

comment on function public.batch_jobs_log_events() is
  'AFTER INSERT/UPDATE/DELETE statement trigger: batch_created per row inserted, batch_started (pending -> running), '
  'batch_completed, batch_failed, batch_cancelled when a batch reaches that status, batch_deleted when it is deleted.';

select public.create_statement_triggers('public.batch_jobs', 'public.batch_jobs_log_events', '{insert, update, delete}');

-- ---------------------------------------------------------------------------------------------
-- batch_items -> batch_item_created / _updated / _deleted
-- ---------------------------------------------------------------------------------------------
create function public.batch_items_log_events()
  returns trigger
  language plpgsql security definer set search_path = ''
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

select public.create_statement_triggers('public.batch_items', 'public.batch_items_log_events', '{insert, update, delete}');
