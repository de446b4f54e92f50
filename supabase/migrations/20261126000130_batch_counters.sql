-- Batch counters and batch status, kept by triggers on batch_items.
--
--   batch_items insert/update/delete (statement-level, transition tables)
--       -> adds signed counts per (batch, item status) to batch_jobs' *_items counters, and moves
--          the batch's status with public.batch_job_next_status():
--            pending   -> running     at the first claimed (or finished) item
--            running   -> completed   no pending or claimed item left, none failed
--            running   -> failed      no pending or claimed item left, at least one failed
--          A finished batch that gets new or retried items is running again.
--   batch_jobs status (row-level, before update of status)
--       -> API callers may only set `cancelled` (from pending or running); every other status
--          follows the items and is set only from inside the trigger above. Stamps started_at
--          and completed_at.
--   batch_jobs cancelled (statement-level, after update)
--       -> the batch's pending and claimed items become cancelled.
--
-- Concurrency: a counter update is `x = x + delta` on the batch row, which concurrent statements
-- take in batch id order; under READ COMMITTED the second writer waits and re-reads the row, so no
-- increment is lost. Lock order: an item change locks its batch row after the items; cancelling
-- locks the batch row, then its items. Code that changes items and calculations in one
-- transaction should change calculations (user_stats) first.

create function public.batch_job_next_status(
  current_status  text,
  pending_items   integer,
  claimed_items   integer,
  completed_items integer,
  failed_items    integer
)
  returns text
  language sql immutable set search_path = ''
as $$
  select case
    when current_status = 'cancelled' then 'cancelled'
    -- work left: pending until the first item is claimed or finished, running after that
    when pending_items + claimed_items > 0 then
      case
        when current_status = 'pending' and claimed_items + completed_items + failed_items = 0 then 'pending'
        else 'running'
      end
    -- nothing left and nothing finished (no items, or all cancelled): unchanged
    when completed_items + failed_items = 0 then current_status
    when failed_items > 0 then 'failed'
    else 'completed'
  end
$$;

comment on function public.batch_job_next_status(text, integer, integer, integer, integer) is
  'The status a batch should have given its current status and its item counters.';
revoke execute on function public.batch_job_next_status(text, integer, integer, integer, integer)
  from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- batch_items -> batch_jobs counters and status
-- ---------------------------------------------------------------------------------------------
create function public.batch_items_count_batch_jobs()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  changes jsonb;
begin
  -- Signed changes per (batch, item status): +1 for each row as it is now, -1 as it was, as in
  -- calculations_count_user_stats (one statement per event: its transition tables differ).
  if tg_op = 'INSERT' then
    select jsonb_agg(g) into changes
      from (select batch_job_id, status, count(*) as n
              from new_rows group by batch_job_id, status) g;
  elsif tg_op = 'DELETE' then
    select jsonb_agg(g) into changes
      from (select batch_job_id, status, -count(*) as n
              from old_rows group by batch_job_id, status) g;
  else
    -- Rows whose batch and status did not change cancel out and leave nothing.
    select jsonb_agg(g) into changes
      from (select batch_job_id, status, sum(n) as n
              from (select batch_job_id, status, 1 as n from new_rows
                    union all
                    select batch_job_id, status, -1 as n from old_rows) c
             group by batch_job_id, status
            having sum(n) <> 0) g;
  end if;

  if changes is null then
    return null;  -- no counter moves: no batch row is locked
  end if;

  -- Lock the batches in id order first, so statements touching several batches cannot deadlock.
  perform 1
     from public.batch_jobs b
    where b.id in (select c.batch_job_id from jsonb_to_recordset(changes) as c (batch_job_id uuid))
    order by b.id
      for no key update;

  -- Every new value is computed from the row itself (b.*), never from an earlier read of it.
  update public.batch_jobs b
     set total_items     = b.total_items     + d.total,
         pending_items   = b.pending_items   + d.pending,
         claimed_items   = b.claimed_items   + d.claimed,
         completed_items = b.completed_items + d.completed,
         failed_items    = b.failed_items    + d.failed,
         cancelled_items = b.cancelled_items + d.cancelled,
         status = public.batch_job_next_status(
           b.status,
           b.pending_items   + d.pending,
           b.claimed_items   + d.claimed,
           b.completed_items + d.completed,
           b.failed_items    + d.failed)
    from (
      select c.batch_job_id,
             sum(c.n)::integer                                                  as total,
             coalesce(sum(c.n) filter (where c.status = 'pending'), 0)::integer   as pending,
             coalesce(sum(c.n) filter (where c.status = 'claimed'), 0)::integer   as claimed,
             coalesce(sum(c.n) filter (where c.status = 'completed'), 0)::integer as completed,
             coalesce(sum(c.n) filter (where c.status = 'failed'), 0)::integer    as failed,
             coalesce(sum(c.n) filter (where c.status = 'cancelled'), 0)::integer as cancelled
        from jsonb_to_recordset(changes) as c (batch_job_id uuid, status text, n integer)
       group by c.batch_job_id
    ) d
   where b.id = d.batch_job_id;

  return null;
end;
$$;

comment on function public.batch_items_count_batch_jobs() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on batch_items: adds signed item counts per batch and status to '
  'batch_jobs, and moves the batch status with batch_job_next_status().';

select public.create_statement_triggers('public.batch_items', 'public.batch_items_count_batch_jobs', '{insert, update, delete}');

-- ---------------------------------------------------------------------------------------------
-- batch_jobs.status: only `cancelled` may be set directly
-- ---------------------------------------------------------------------------------------------
create function public.batch_jobs_check_status_change()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  if new.status = 'cancelled' then
    if old.status not in ('pending', 'running') then
      raise exception 'batch_jobs_status_transition: a % batch cannot be cancelled', old.status
        using errcode = 'check_violation',
              constraint = 'batch_jobs_status_transition',
              schema = 'public', table = 'batch_jobs', column = 'status';
    end if;
  -- Depth 1 is a statement against batch_jobs itself; the counter trigger on batch_items runs
  -- its update at depth 2.
  elsif pg_trigger_depth() < 2 or old.status = 'cancelled' then
    raise exception 'batch_jobs_status_transition: a batch cannot be set from % to %', old.status, new.status
      using errcode = 'check_violation',
            constraint = 'batch_jobs_status_transition',
            schema = 'public', table = 'batch_jobs', column = 'status',
            hint = 'A batch''s status follows its items; only cancelled (from pending or running) may be set.';
  end if;

  if new.status = 'running' then
    new.started_at := coalesce(new.started_at, now());
    new.completed_at := null;
  elsif new.status = 'pending' then
    new.completed_at := null;
  else
    new.completed_at := now();
  end if;
  return new;
end;
$$;

comment on function public.batch_jobs_check_status_change() is
  'BEFORE UPDATE OF status row trigger on batch_jobs: allows only cancelling from outside the item triggers; '
  'stamps started_at and completed_at.';
revoke execute on function public.batch_jobs_check_status_change() from public, anon, authenticated, service_role;

create trigger batch_jobs_status_transition
  before update of status on public.batch_jobs
  for each row when (old.status is distinct from new.status)
  execute function public.batch_jobs_check_status_change();

-- ---------------------------------------------------------------------------------------------
-- Cancelling a batch cancels its remaining items (which the counter trigger then counts).
-- ---------------------------------------------------------------------------------------------
create function public.batch_jobs_cancel_items()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  -- Runs as the caller: the items belong to the same user as their batch.
  update public.batch_items i
     set status = 'cancelled',
         lease_expires_at = null
    from new_rows n
    join old_rows o on o.id = n.id
   where n.status = 'cancelled'
     and o.status <> 'cancelled'
     and i.user_id = n.user_id
     and i.batch_job_id = n.id
     and i.status in ('pending', 'claimed');
  return null;
end;
$$;

comment on function public.batch_jobs_cancel_items() is
  'AFTER UPDATE statement trigger on batch_jobs: the pending and claimed items of a batch that became cancelled are cancelled.';

select public.create_statement_triggers('public.batch_jobs', 'public.batch_jobs_cancel_items', '{update}');
