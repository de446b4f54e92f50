-- event_counts: events per user and minute, kept by triggers, so that database_stats'
-- events_last_24h (public.events_last_24h in the views migration) sums at most 1,440 minutes
-- instead of counting every event of the last day.
--
-- Measured before: with 10^6 calculations ingested in a day, the count of the last 24 hours'
-- events read 10^6 index entries of event_logs (user_id, created_at) on every /query/stats: about
-- half a second on the shared 2-core machine while it was loaded, more than the whole 50 ms budget.
--
-- Exact: whole minutes inside the window come from here; the one minute the window's start cuts
-- is counted in event_logs itself (an index range of at most one minute of events).
--
--   public.event_counts   (user_id, minute, slot) -> n; slots as in user_stats_slots, so concurrent
--                         writers of one user (every ingest and completion writes events) do not
--                         queue on one row until they commit.
--   triggers              AFTER INSERT and AFTER DELETE statement triggers on event_logs (which is
--                         append-only: only purge_event_logs deletes). A minute whose events are
--                         all purged loses its rows, so the table keeps only what the log keeps.
--   backfill              at the end of this file, from the events already there.

create table public.event_counts (
  user_id uuid        not null,
  minute  timestamptz not null,
  slot    smallint    not null,
  n       integer     not null,  -- sum() of integers adds in int8, of bigints in numeric

  constraint event_counts_pkey primary key (user_id, minute, slot),
  constraint event_counts_minute_whole check (minute = date_trunc('minute', minute)),
  constraint event_counts_slot_range check (slot between 0 and 15)
) with (fillfactor = 70);  -- room on the page for HOT updates of n: the minute's rows change often

comment on table public.event_counts is
  'Events per user and minute (date_trunc of created_at) in up to 16 slots, kept by triggers on event_logs; '
  'a minute''s count is the sum over its slots.';

alter table public.event_counts enable row level security;
revoke all on table public.event_counts from public, anon, authenticated, service_role;
grant select on table public.event_counts to qf_api, service_role;

create policy event_counts_select_own on public.event_counts
  for select to qf_api
  using (user_id = (select auth.uid()));

grant execute on function public.events_last_24h(uuid) to qf_api;

create function public.event_logs_count_minutes()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.event_counts as k (user_id, minute, slot, n)
    select e.user_id, date_trunc('minute', e.created_at), (select public.user_stats_slot()), count(*)
      from new_rows e
     group by 1, 2
     order by 1, 2
    on conflict (user_id, minute, slot) do update set n = k.n + excluded.n;
  else
    insert into public.event_counts as k (user_id, minute, slot, n)
    select e.user_id, date_trunc('minute', e.created_at), (select public.user_stats_slot()), -count(*)
      from old_rows e
     group by 1, 2
     order by 1, 2
    on conflict (user_id, minute, slot) do update set n = k.n + excluded.n;
    -- Minutes purged to nothing go, slots and all.
    delete from public.event_counts k
     using (select c.user_id, c.minute
              from public.event_counts c
             where (c.user_id, c.minute) in (select e.user_id, date_trunc('minute', e.created_at) from old_rows e)
             group by 1, 2
            having sum(c.n) = 0) z
     where k.user_id = z.user_id and k.minute = z.minute;
  end if;
  return null;
end;
$$;

comment on function public.event_logs_count_minutes() is
  'AFTER INSERT/DELETE statement trigger on event_logs: adds the signed count of events per user and minute to '
  'event_counts (the session''s slot); drops minutes whose count reaches zero.';

select public.create_statement_triggers('public.event_logs', 'public.event_logs_count_minutes', '{insert, delete}');

-- Backfill: the events already logged. One statement (migrations run outside a transaction
-- block), so writers of event_logs wait on the lock until it is done.
do $$
begin
  lock table public.event_logs in share mode;
  insert into public.event_counts (user_id, minute, slot, n)
  select e.user_id, date_trunc('minute', e.created_at), 0, count(*)
    from public.event_logs e
   group by 1, 2;
end
$$;
