-- Event logging by triggers: every state change of molecules, calculations and batch_jobs
-- appends exactly one row to event_logs.
--
-- All triggers are AFTER ... FOR EACH STATEMENT with transition tables, so a 10,000-row insert
-- costs one trigger call that writes 10,000 events with one insert ... select. PostgreSQL allows a
-- transition table only on a single-event trigger, hence one trigger per table and event
-- (insert, update, delete), each sharing its table's function. An update is compared row by row
-- (old and new transition tables joined on the primary key): a row whose status did not change,
-- including a no-op update, writes nothing.
--
--   molecules      insert -> molecule_created, delete -> molecule_deleted
--   calculations   insert or status change to running/completed/failed
--                      -> calculation_started / calculation_completed / calculation_failed
--                  (a retry, failed -> pending, writes nothing); delete -> calculation_deleted
--   batch_jobs     status change: pending -> running -> batch_started; to completed, failed,
--                  cancelled -> batch_completed / batch_failed / batch_cancelled;
--                  delete -> batch_deleted
--
-- The functions are `security definer` (owner) because API roles cannot write event_logs.

-- ---------------------------------------------------------------------------------------------
-- molecules
-- ---------------------------------------------------------------------------------------------
create function public.molecules_log_events()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
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
revoke execute on function public.molecules_log_events() from public, anon, authenticated, service_role;

create trigger molecules_log_events_after_insert
  after insert on public.molecules
  referencing new table as new_rows
  for each statement execute function public.molecules_log_events();

create trigger molecules_log_events_after_delete
  after delete on public.molecules
  referencing old table as old_rows
  for each statement execute function public.molecules_log_events();

-- ---------------------------------------------------------------------------------------------
-- calculations
-- ---------------------------------------------------------------------------------------------
create function public.calculations_log_events()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
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
    -- Only rows whose status changed; a retry (failed -> pending) writes nothing.
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
revoke execute on function public.calculations_log_events() from public, anon, authenticated, service_role;

create trigger calculations_log_events_after_insert
  after insert on public.calculations
  referencing new table as new_rows
  for each statement execute function public.calculations_log_events();

create trigger calculations_log_events_after_update
  after update on public.calculations
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.calculations_log_events();

create trigger calculations_log_events_after_delete
  after delete on public.calculations
  referencing old table as old_rows
  for each statement execute function public.calculations_log_events();

-- ---------------------------------------------------------------------------------------------
-- batch_jobs
-- ---------------------------------------------------------------------------------------------
create function public.batch_jobs_log_events()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
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
  'AFTER UPDATE/DELETE statement trigger: batch_started (pending -> running), batch_completed, batch_failed, '
  'batch_cancelled when a batch reaches that status, batch_deleted when it is deleted.';
revoke execute on function public.batch_jobs_log_events() from public, anon, authenticated, service_role;

create trigger batch_jobs_log_events_after_update
  after update on public.batch_jobs
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.batch_jobs_log_events();

create trigger batch_jobs_log_events_after_delete
  after delete on public.batch_jobs
  referencing old table as old_rows
  for each statement execute function public.batch_jobs_log_events();
