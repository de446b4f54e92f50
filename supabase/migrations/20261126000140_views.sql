-- Stats views. All are `security_invoker = true`: they run with the caller's privileges and RLS,
-- so a user sees only their own rows; granted to qf_api and service_role, not anon.
--
--   database_stats       per user: molecules, calculations by status and by method, atoms,
--                        batches by status, events in the last 24 hours. Reads the trigger-kept
--                        counters through the user_stats view (at most 16 slot rows per user),
--                        the user's few batch_jobs, and the last day's per-minute event counts
--                        (events_last_24h).
--   batch_progress       per batch: the trigger-kept counters, percent done, items finished per
--                        minute, and the ETA at that rate. The rate is the items finished in the
--                        last 10 minutes divided by the time they had: 10 minutes, or less when
--                        the batch started (first claim) within them, at least one second. Five
--                        items done in the 3 s since the start read 100/min, not 0.5.

-- ---------------------------------------------------------------------------------------------
-- events_last_24h: the whole minutes of the window from the trigger-kept event_counts (migration
-- event_counts), the one minute its start cuts from event_logs (user_id, created_at). plpgsql, so
-- that it may read event_counts, which a later migration adds; security invoker: RLS applies.
-- ---------------------------------------------------------------------------------------------
create function public.events_last_24h(p_user_id uuid)
  returns bigint
  language plpgsql stable security invoker set search_path = ''
as $$
declare
  v_since constant timestamptz := now() - interval '24 hours';
  v_first_whole constant timestamptz := date_trunc('minute', v_since) + interval '1 minute';
begin
  return (select coalesce(sum(k.n), 0)::bigint
            from public.event_counts k
           where k.user_id = p_user_id and k.minute >= v_first_whole)
       + (select count(*)
            from public.event_logs e
           where e.user_id = p_user_id and e.created_at > v_since and e.created_at < v_first_whole);
end;
$$;

comment on function public.events_last_24h(uuid) is
  'Events of the user created in the last 24 hours (exact): whole minutes from event_counts, the cut minute from event_logs.';
revoke execute on function public.events_last_24h(uuid) from public, anon, authenticated;
grant execute on function public.events_last_24h(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------
-- database_stats
-- ---------------------------------------------------------------------------------------------
create view public.database_stats
  with (security_invoker = true)
as
with batch_counts as (
  select b.user_id,
         count(*)                                       as batches_total,
         count(*) filter (where b.status = 'pending')   as batches_pending,
         count(*) filter (where b.status = 'running')   as batches_running,
         count(*) filter (where b.status = 'completed') as batches_completed,
         count(*) filter (where b.status = 'failed')    as batches_failed,
         count(*) filter (where b.status = 'cancelled') as batches_cancelled
    from public.batch_jobs b
   group by b.user_id
),
per_user as (
  select coalesce(s.user_id, bc.user_id) as user_id,
         coalesce(s.molecules, 0) as molecules,
         coalesce(s.calculations_pending, 0) as calculations_pending,
         coalesce(s.calculations_running, 0) as calculations_running,
         coalesce(s.calculations_completed, 0) as calculations_completed,
         coalesce(s.calculations_failed, 0) as calculations_failed,
         coalesce(s.calculations_gfn2_xtb, 0) as calculations_gfn2_xtb,
         coalesce(s.calculations_gfn1_xtb, 0) as calculations_gfn1_xtb,
         coalesce(s.calculations_gfn0_xtb, 0) as calculations_gfn0_xtb,
         coalesce(s.calculations_gfn_ff, 0) as calculations_gfn_ff,
         coalesce(s.atoms, 0) as atoms,
         coalesce(bc.batches_total, 0) as batches_total,
         coalesce(bc.batches_pending, 0) as batches_pending,
         coalesce(bc.batches_running, 0) as batches_running,
         coalesce(bc.batches_completed, 0) as batches_completed,
         coalesce(bc.batches_failed, 0) as batches_failed,
         coalesce(bc.batches_cancelled, 0) as batches_cancelled
    from public.user_stats s
    full join batch_counts bc on bc.user_id = s.user_id
)
select u.user_id,
       u.molecules,
       u.calculations_pending + u.calculations_running + u.calculations_completed + u.calculations_failed
         as calculations_total,
       u.calculations_pending,
       u.calculations_running,
       u.calculations_completed,
       u.calculations_failed,
       u.calculations_gfn2_xtb,
       u.calculations_gfn1_xtb,
       u.calculations_gfn0_xtb,
       u.calculations_gfn_ff,
       u.atoms,
       u.batches_total,
       u.batches_pending,
       u.batches_running,
       u.batches_completed,
       u.batches_failed,
       u.batches_cancelled,
       public.events_last_24h(u.user_id) as events_last_24h
  from per_user u;

comment on view public.database_stats is
  'Per user: molecules, calculations by status and method, atoms (from user_stats), batches by status, events in the last 24 h.';

-- ---------------------------------------------------------------------------------------------
-- batch_progress
-- ---------------------------------------------------------------------------------------------
create view public.batch_progress
  with (security_invoker = true)
as
select b.id as batch_job_id,
       b.user_id,
       b.name,
       b.status,
       b.priority,
       b.total_items,
       b.pending_items,
       b.claimed_items,
       b.completed_items,
       b.failed_items,
       b.cancelled_items,
       round(100.0 * (b.completed_items + b.failed_items) / nullif(b.total_items - b.cancelled_items, 0), 1)
         as percent_done,
       round(r.finished_last_10_min * 60.0 / w.seconds, 2) as items_per_minute,
       case
         when b.pending_items + b.claimed_items = 0 then 0
         when r.finished_last_10_min > 0
           then round((b.pending_items + b.claimed_items) * w.seconds / r.finished_last_10_min)
       end as eta_seconds,
       case
         when b.pending_items + b.claimed_items > 0 and r.finished_last_10_min > 0
           then now() + make_interval(secs => (b.pending_items + b.claimed_items) * w.seconds / r.finished_last_10_min)
       end as estimated_completion_at,
       b.started_at,
       b.completed_at,
       b.created_at
  from public.batch_jobs b
  cross join lateral (
    select count(*) as finished_last_10_min
      from public.batch_items i
     where i.user_id = b.user_id
       and i.batch_job_id = b.id
       and i.completed_at > now() - interval '10 minutes'
  ) r
  -- The seconds those items had: since the start if that is later (greatest() skips a null).
  cross join lateral (
    select greatest(extract(epoch from now() - greatest(b.started_at, now() - interval '10 minutes')), 1)
             as seconds
  ) w;

comment on view public.batch_progress is
  'Per batch: item counters, percent done (finished / not cancelled), items finished per minute (those of the '
  'last 10 minutes over the time since the later of the batch''s start and 10 minutes ago, at least 1 s), and '
  'the ETA at that rate (null when nothing finished lately; 0 when nothing is left).';

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------
revoke all on table public.database_stats, public.batch_progress
  from public, anon, authenticated, service_role;
grant select on table public.database_stats, public.batch_progress
  to qf_api, service_role;
