-- Claiming items under a lease.
--
-- Runs as the caller (security invoker); who may pass p_all_users, the lease rules, the shape of
-- attempt_history and the lock order are in migration batch_queue_helpers.

-- ---------------------------------------------------------------------------------------------
-- batch_claim_turns: when the shared fleet last served each user, so that an all-users claim
-- takes its turns round-robin. One row per user ever served by an all_users claim (a few bytes
-- each); written only by claim_batch_items as service_role, read by nothing else.
-- ---------------------------------------------------------------------------------------------
create table public.batch_claim_turns (
  user_id   uuid        not null,
  served_at timestamptz not null,

  constraint batch_claim_turns_pkey primary key (user_id),
  constraint batch_claim_turns_user_fkey foreign key (user_id)
    references auth.users (id) on delete cascade
);

comment on table public.batch_claim_turns is
  'When an all_users claim last gave the user a turn: the least recently served users come first.';

alter table public.batch_claim_turns enable row level security;
revoke all on table public.batch_claim_turns from public, anon, authenticated, service_role;
grant select, insert, update on table public.batch_claim_turns to service_role;
-- Only all-users claims (service_role) write it. A user's claim runs the same statement, which names
-- the table, so qf_api needs the privileges to run it; with RLS on and no policy for qf_api it reads
-- and writes no row (and that claim writes none).
grant select, insert, update on table public.batch_claim_turns to qf_api;

-- ---------------------------------------------------------------------------------------------
-- claim_batch_items: ONE statement, for a user's items or all users'. Candidates are pending
-- items and claimed items whose lease has expired, of pending or running batches, locked with
-- FOR UPDATE SKIP LOCKED so concurrent runners never receive the same item. An expired one gets
-- `lease_expired` on its open attempt; if that was its last attempt it fails instead of being
-- claimed (and is not returned). With p_batch_id, a claim still walks its users' claim order and
-- skips other batches' items.
--
-- Order. Priority orders a user's OWN items (highest first, then oldest); it never ranks one
-- user against another, since any user may set any priority. An all-users claim (the shared
-- fleet) deals in turns: up to p_limit users, least recently served first (batch_claim_turns),
-- each an equal share of the claim in its own order. So a user with one item waits at most one
-- claim per p_limit users ahead of it, whatever the others' backlog or priorities.
-- ---------------------------------------------------------------------------------------------
create function public.claim_batch_items(
  p_runner_id     text,
  p_limit         integer,
  p_lease_seconds integer,
  p_batch_id      uuid    default null,
  p_methods       text[]  default null,
  p_all_users     boolean default false
)
  returns table (
    item_id uuid, batch_id uuid, user_id uuid, molecule_id uuid, canonical_smiles text, name text,
    charge integer, multiplicity integer, input_geometry jsonb, method text, task text, solvent text,
    xtb_args text[], attempt integer, max_attempts integer, lease_expires_at timestamptz)
  language plpgsql security invoker set search_path = ''
  -- A plan for each call's values: see "The plan is made for each call's values" below.
  set plan_cache_mode = force_custom_plan
  -- Each walk reads a share of one user's items in that user's claim order and stops. For an
  -- all-users claim the user is a lateral parameter, estimated as an average user: with many users
  -- of a few items each, a bitmap scan looked as cheap and read (then sorted) a busy user's whole
  -- backlog on every claim. The claim is never a bulk read, so a bitmap is never its right plan.
  set enable_bitmapscan = off
as $$
#variable_conflict use_column
declare
  v_user uuid := public.batch_caller(p_all_users);
begin
  if p_runner_id is null or char_length(p_runner_id) not between 1 and 200 then
    raise exception 'claim_batch_items: runner_id must be 1 to 200 characters' using errcode = 'invalid_parameter_value';
  end if;
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception 'claim_batch_items: limit must be 1 to 100, got %', p_limit using errcode = 'invalid_parameter_value';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception 'claim_batch_items: lease_seconds must be 30 to 3600, got %', p_lease_seconds
      using errcode = 'invalid_parameter_value';
  end if;
  p_all_users := coalesce(p_all_users, false);  -- null is a user's claim, as in batch_caller

  -- One statement for both modes. Every step is an index walk, never a scan of the queue:
  --   waiting    the users with waiting items: a user's claim, just the caller; a claim for one
  --              batch, its owner; an all-users claim (RLS bypassed: service_role, checked by
  --              batch_caller), a loose index scan of batch_items_user_id_claim_order_idx, one
  --              probe per such user.
  --   turn       of those with a live batch this claim could take from, the p_limit least
  --              recently served (more can never get a turn in one claim), with their shares.
  --   ranked     each of them, its share of p_limit (all of it for a user's claim) in its own
  --              claim order: a LATERAL walk of batch_items_user_id_claim_order_idx (user_id,
  --              priority desc, seq), locked FOR UPDATE SKIP LOCKED as it goes, so that
  --              concurrent runners never receive the same item and each walks past what the
  --              others hold. At most p_limit + users - 1 rows are locked, whatever the queue.
  --   candidate  the deal: each user's first, then each user's second, …, in turn order.
  --   served     every user that took a turn gets it stamped (all-users claims only).
  -- The plan is made for each call's values (plan_cache_mode = force_custom_plan, set on the
  -- function), so p_all_users is a constant and the loose scan and the stamp vanish from a
  -- user's claim. test/batches/claim-plan.test.ts reads both plans with auto_explain.
  return query
  with recursive waiting (user_id) as (
    -- A claim for one batch serves its owner only: no scan of the other users.
    select coalesce(v_user, (select b.user_id from public.batch_jobs b where b.id = p_batch_id))
     where not p_all_users or p_batch_id is not null
    union all
    (select i.user_id from public.batch_items i
      where p_all_users and p_batch_id is null and i.status in ('pending', 'claimed')
      order by i.user_id, i.priority desc, i.seq limit 1)
    union all
    -- The next user after w's. PostgreSQL 17 has no min(uuid); and the full claim order in the
    -- ORDER BY keeps the probe on the partial claim index, which holds only waiting items,
    -- rather than on any other (user_id, …) index that would step over finished ones.
    select (select i.user_id from public.batch_items i
             where i.status in ('pending', 'claimed') and i.user_id > w.user_id
             order by i.user_id, i.priority desc, i.seq limit 1)
      from waiting w
     where p_all_users and p_batch_id is null and w.user_id is not null
  ),
  turn as (
    select w.user_id, row_number() over (order by t.served_at nulls first, w.user_id) as turn,
           -- Equal shares, rounded up: at most p_limit + users - 1 rows locked for p_limit claimed.
           ceil(p_limit::numeric / least(count(*) over (), p_limit))::integer as share
      from waiting w
      left join public.batch_claim_turns t on p_all_users and t.user_id = w.user_id
     -- Only users with a batch this claim could take from (method, batch) and items left in it
     -- take a turn, so that a claim for some methods is not crowded out by users with none. Asked
     -- of the user's batches (few), not of the user's items: one probe each, however many
     -- non-matching items the user has waiting.
     cross join lateral (
       select from public.batch_jobs b
        where b.user_id = w.user_id
          and b.status in ('pending', 'running')
          and b.pending_items + b.claimed_items > 0
          and (p_batch_id is null or b.id = p_batch_id)
          and (p_methods is null or b.method = any (p_methods))
        limit 1
     ) has_candidate
     where w.user_id is not null
     order by t.served_at nulls first, w.user_id
     limit p_limit
  ),
  ranked as (
    -- Each user's share of the claim, in the user's claim order, locked here (FOR UPDATE SKIP
    -- LOCKED inside the walk) so that a walk steps past what concurrent runners hold and still
    -- finds its share; a cap of p_limit per user would leave a crowd of runners empty-handed.
    select c.*, u.turn
      from turn u
     cross join lateral (
       select i.id, i.priority, i.seq,
              i.status = 'claimed' as expired,
              i.status = 'claimed' and (i.attempts >= (select b.max_attempts from public.batch_jobs b
                                                        where b.id = i.batch_job_id and b.user_id = i.user_id)
                                        or i.total_attempts >= public.batch_item_attempt_limit()) as exhausted
         from public.batch_items i
        -- For a user's claim the planner sees the caller (a constant: its own row count, and the
        -- claim order index); a bare u.user_id would be estimated as an average user.
        where i.user_id = coalesce(v_user, u.user_id)
          and (i.status = 'pending' or (i.status = 'claimed' and i.lease_expires_at < now()))
          and (p_batch_id is null or i.batch_job_id = p_batch_id)
          -- The item's batch is live and of a method asked for, checked per item walked. As a
          -- scalar subquery it cannot become a join: joined, the planner could start from the
          -- user's live batches and read all their items by (user_id, batch_job_id, seq) to sort
          -- them: the claim-plan test saw that plan once, in a full run of the suite.
          and (select b.status in ('pending', 'running') and (p_methods is null or b.method = any (p_methods))
                 from public.batch_jobs b
                where b.id = i.batch_job_id and b.user_id = i.user_id)
        order by i.priority desc, i.seq
        limit case when p_all_users then u.share else p_limit end  -- a constant for the planner in a user's claim
          for update of i skip locked
     ) c
  ),
  candidate as (
    -- The deal: every user's first, then every user's second, …, users in turn order.
    select r.id, r.expired, r.exhausted
      from (select r.*, row_number() over (partition by r.turn order by r.priority desc, r.seq) as rank
              from ranked r) r
     order by r.rank, r.turn
     limit p_limit
  ),
  claimed as (
    update public.batch_items i
       set status = case when c.exhausted then 'failed' else 'claimed' end,
           attempts = i.attempts + case when c.exhausted then 0 else 1 end,
           total_attempts = i.total_attempts + case when c.exhausted then 0 else 1 end,
           claimed_by = case when c.exhausted then i.claimed_by else p_runner_id end,
           lease_expires_at = case when c.exhausted then null
                                   else now() + make_interval(secs => p_lease_seconds) end,
           last_error = case when c.expired
                             then format('lease expired: runner %s did not report attempt %s', i.claimed_by, i.attempts)
                                  || case when c.exhausted and i.total_attempts >= public.batch_item_attempt_limit()
                                          then format(' (attempt limit: %s attempts in all)', i.total_attempts)
                                          else '' end
                             else i.last_error end,
           -- An expired attempt is closed; then, unless the item fails here, the new one opened.
           attempt_history = (
             select case when c.exhausted then h.closed
                         else public.batch_item_append_attempt(h.closed, jsonb_build_object(
                                'attempt', i.attempts + 1, 'runner', p_runner_id, 'started_at', now(),
                                'ended_at', null, 'outcome', 'claimed', 'error', null)) end
               from (select case when c.expired
                                 then public.batch_item_close_attempt(i.attempt_history, i.claimed_by, 'lease_expired',
                                        format('lease expired at %s', i.lease_expires_at), i.lease_expires_at)
                                 else i.attempt_history end) as h (closed))
      from candidate c
     where i.id = c.id
    returning i.id, i.batch_job_id, i.user_id, i.molecule_id, i.name, i.charge, i.multiplicity,
              i.input_geometry, i.status, i.attempts, i.lease_expires_at, i.priority, i.seq
  ),
  served as (
    -- Every user that took a turn, dealt an item or not: a user whose waiting items are all held
    -- under live leases (a long xtb run) yields nothing, and were it left unstamped it would stay
    -- the least recently served and take a turn in every claim, so that a claim of one item
    -- would come back empty until that lease ran out.
    insert into public.batch_claim_turns as t (user_id, served_at)
    select u.user_id, now() from turn u where p_all_users
     order by u.user_id  -- one lock order for every claim
    on conflict (user_id) do update set served_at = excluded.served_at
  )
  select k.id, k.batch_job_id, k.user_id, k.molecule_id, m.canonical_smiles, coalesce(k.name, m.name),
         k.charge, k.multiplicity, k.input_geometry, b.method, b.task, b.solvent, b.xtb_args,
         k.attempts, b.max_attempts, k.lease_expires_at
    from claimed k
    join public.batch_jobs b on b.id = k.batch_job_id
    join public.molecules m on m.id = k.molecule_id
   where k.status = 'claimed'
   order by k.priority desc, k.seq;
end;
$$;

comment on function public.claim_batch_items(text, integer, integer, uuid, text[], boolean) is
  'Claims up to p_limit pending (or lease-expired) items for a runner under a lease of p_lease_seconds, in one '
  'statement with FOR UPDATE SKIP LOCKED. The caller''s items, or every user''s with p_all_users (service_role only).';

revoke execute on function
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean)
  from public, anon, authenticated;
grant execute on function
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean)
  to qf_api, service_role;
