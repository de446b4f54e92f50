-- user_stats: per-user counters behind the database_stats view, kept by statement-level triggers.
--
-- Counting a million calculations on every stats request is not an option, so each insert,
-- delete or status/method change adds its signed difference to one small row per user:
--
--   molecules                                   +/- on insert/delete of molecules
--   calculations_<status> and calculations_<method>  +/- on insert/delete, and on an update that
--                                               moves a row to another status or method
--   atoms                                       +/- on insert/delete of atomic_properties
--
-- Batches are few per user and are counted live in the view instead: keeping them here would make
-- the batch_items triggers lock this row too, in the opposite order to ingest, and risk deadlocks.
--
-- Concurrency: each change is one `insert ... on conflict (user_id) do update set x = x + excluded.x`,
-- so concurrent transactions of one user serialise on that user's row until they commit, and never
-- lose an increment. Rows are written in user_id order, so multi-user statements cannot deadlock.
-- There is no foreign key to auth.users: while a user is deleted, the cascaded deletes still bring
-- their row down to zero. public.refresh_user_stats() rebuilds every row from the tables (owner only),
-- e.g. after a TRUNCATE, which fires no row-counting trigger.

create table public.user_stats (
  user_id                uuid        not null,
  molecules              bigint      not null default 0,
  calculations_pending   bigint      not null default 0,
  calculations_running   bigint      not null default 0,
  calculations_completed bigint      not null default 0,
  calculations_failed    bigint      not null default 0,
  calculations_gfn2_xtb  bigint      not null default 0,
  calculations_gfn1_xtb  bigint      not null default 0,
  calculations_gfn0_xtb  bigint      not null default 0,
  calculations_gfn_ff    bigint      not null default 0,
  atoms                  bigint      not null default 0,
  created_at             timestamptz not null default now(),
  updated_at             timestamptz not null default now(),

  constraint user_stats_pkey primary key (user_id),
  -- Every calculation has exactly one status and one method. (No `>= 0` check: the triggers
  -- upsert signed differences, and PostgreSQL checks the proposed row, a negative difference
  -- included, before it resolves the conflict into an update.)
  constraint user_stats_calculations_consistent
    check (calculations_pending + calculations_running + calculations_completed + calculations_failed
           = calculations_gfn2_xtb + calculations_gfn1_xtb + calculations_gfn0_xtb + calculations_gfn_ff)
);

comment on table public.user_stats is
  'Per-user counters (molecules, calculations by status and by method, atoms) kept by statement-level triggers; read by database_stats.';
comment on column public.user_stats.atoms is 'Rows of atomic_properties.';

create trigger user_stats_set_updated_at
  before update on public.user_stats
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

alter table public.user_stats enable row level security;
revoke all on table public.user_stats from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- molecules -> user_stats.molecules
-- ---------------------------------------------------------------------------------------------
create function public.molecules_count_user_stats()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.user_stats as s (user_id, molecules)
    select m.user_id, count(*) from new_rows m group by m.user_id order by m.user_id
    on conflict (user_id) do update set molecules = s.molecules + excluded.molecules;
  elsif tg_op = 'DELETE' then
    insert into public.user_stats as s (user_id, molecules)
    select m.user_id, -count(*) from old_rows m group by m.user_id order by m.user_id
    on conflict (user_id) do update set molecules = s.molecules + excluded.molecules;
  end if;
  return null;
end;
$$;

comment on function public.molecules_count_user_stats() is
  'AFTER INSERT/DELETE statement trigger on molecules: adds the signed row count per user to user_stats.molecules.';
revoke execute on function public.molecules_count_user_stats() from public, anon, authenticated, service_role;

create trigger molecules_count_user_stats_after_insert
  after insert on public.molecules
  referencing new table as new_rows
  for each statement execute function public.molecules_count_user_stats();

create trigger molecules_count_user_stats_after_delete
  after delete on public.molecules
  referencing old table as old_rows
  for each statement execute function public.molecules_count_user_stats();

-- ---------------------------------------------------------------------------------------------
-- calculations -> user_stats.calculations_<status>, calculations_<method>
-- ---------------------------------------------------------------------------------------------
create function public.calculations_count_user_stats()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  changes jsonb;
begin
  -- Signed changes per (user, status, method): +1 for each row as it is now, -1 as it was.
  if tg_op = 'INSERT' then
    select jsonb_agg(g) into changes
      from (select user_id, status, method, count(*) as n
              from new_rows group by user_id, status, method) g;
  elsif tg_op = 'DELETE' then
    select jsonb_agg(g) into changes
      from (select user_id, status, method, -count(*) as n
              from old_rows group by user_id, status, method) g;
  else
    -- Rows whose status and method did not change cancel out and leave nothing.
    select jsonb_agg(g) into changes
      from (select user_id, status, method, sum(n) as n
              from (select user_id, status, method, 1 as n from new_rows
                    union all
                    select user_id, status, method, -1 as n from old_rows) c
             group by user_id, status, method
            having sum(n) <> 0) g;
  end if;

  if changes is null then
    return null;  -- nothing to count: no user_stats row is locked
  end if;

  insert into public.user_stats as s (
    user_id,
    calculations_pending, calculations_running, calculations_completed, calculations_failed,
    calculations_gfn2_xtb, calculations_gfn1_xtb, calculations_gfn0_xtb, calculations_gfn_ff)
  select c.user_id,
         coalesce(sum(c.n) filter (where c.status = 'pending'), 0),
         coalesce(sum(c.n) filter (where c.status = 'running'), 0),
         coalesce(sum(c.n) filter (where c.status = 'completed'), 0),
         coalesce(sum(c.n) filter (where c.status = 'failed'), 0),
         coalesce(sum(c.n) filter (where c.method = 'GFN2-xTB'), 0),
         coalesce(sum(c.n) filter (where c.method = 'GFN1-xTB'), 0),
         coalesce(sum(c.n) filter (where c.method = 'GFN0-xTB'), 0),
         coalesce(sum(c.n) filter (where c.method = 'GFN-FF'), 0)
    from jsonb_to_recordset(changes) as c (user_id uuid, status text, method text, n bigint)
   group by c.user_id
   order by c.user_id
  on conflict (user_id) do update set
    calculations_pending   = s.calculations_pending   + excluded.calculations_pending,
    calculations_running   = s.calculations_running   + excluded.calculations_running,
    calculations_completed = s.calculations_completed + excluded.calculations_completed,
    calculations_failed    = s.calculations_failed    + excluded.calculations_failed,
    calculations_gfn2_xtb  = s.calculations_gfn2_xtb  + excluded.calculations_gfn2_xtb,
    calculations_gfn1_xtb  = s.calculations_gfn1_xtb  + excluded.calculations_gfn1_xtb,
    calculations_gfn0_xtb  = s.calculations_gfn0_xtb  + excluded.calculations_gfn0_xtb,
    calculations_gfn_ff    = s.calculations_gfn_ff    + excluded.calculations_gfn_ff;
  return null;
end;
$$;

comment on function public.calculations_count_user_stats() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on calculations: adds signed counts per user, status and method to user_stats.';
revoke execute on function public.calculations_count_user_stats() from public, anon, authenticated, service_role;

create trigger calculations_count_user_stats_after_insert
  after insert on public.calculations
  referencing new table as new_rows
  for each statement execute function public.calculations_count_user_stats();

create trigger calculations_count_user_stats_after_update
  after update on public.calculations
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.calculations_count_user_stats();

create trigger calculations_count_user_stats_after_delete
  after delete on public.calculations
  referencing old table as old_rows
  for each statement execute function public.calculations_count_user_stats();

-- ---------------------------------------------------------------------------------------------
-- atomic_properties -> user_stats.atoms (atomic_properties is never updated)
-- ---------------------------------------------------------------------------------------------
create function public.atomic_properties_count_user_stats()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.user_stats as s (user_id, atoms)
    select a.user_id, count(*) from new_rows a group by a.user_id order by a.user_id
    on conflict (user_id) do update set atoms = s.atoms + excluded.atoms;
  elsif tg_op = 'DELETE' then
    insert into public.user_stats as s (user_id, atoms)
    select a.user_id, -count(*) from old_rows a group by a.user_id order by a.user_id
    on conflict (user_id) do update set atoms = s.atoms + excluded.atoms;
  end if;
  return null;
end;
$$;

comment on function public.atomic_properties_count_user_stats() is
  'AFTER INSERT/DELETE statement trigger on atomic_properties: adds the signed row count per user to user_stats.atoms.';
revoke execute on function public.atomic_properties_count_user_stats() from public, anon, authenticated, service_role;

create trigger atomic_properties_count_user_stats_after_insert
  after insert on public.atomic_properties
  referencing new table as new_rows
  for each statement execute function public.atomic_properties_count_user_stats();

create trigger atomic_properties_count_user_stats_after_delete
  after delete on public.atomic_properties
  referencing old table as old_rows
  for each statement execute function public.atomic_properties_count_user_stats();

-- ---------------------------------------------------------------------------------------------
-- Repair: rebuild every row from the tables (database owner only).
-- ---------------------------------------------------------------------------------------------
create function public.refresh_user_stats()
  returns void
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  -- Writers of the counted tables wait until this transaction ends, so no change slips between
  -- the counting and the storing.
  lock table public.molecules, public.calculations, public.atomic_properties in share mode;
  lock table public.user_stats in exclusive mode;

  delete from public.user_stats;

  insert into public.user_stats (
    user_id, molecules,
    calculations_pending, calculations_running, calculations_completed, calculations_failed,
    calculations_gfn2_xtb, calculations_gfn1_xtb, calculations_gfn0_xtb, calculations_gfn_ff,
    atoms)
  select m.user_id, m.n,
         coalesce(c.pending, 0), coalesce(c.running, 0), coalesce(c.completed, 0), coalesce(c.failed, 0),
         coalesce(c.gfn2_xtb, 0), coalesce(c.gfn1_xtb, 0), coalesce(c.gfn0_xtb, 0), coalesce(c.gfn_ff, 0),
         coalesce(a.n, 0)
    from (select user_id, count(*) as n from public.molecules group by user_id) m
    left join (
      select user_id,
             count(*) filter (where status = 'pending')   as pending,
             count(*) filter (where status = 'running')   as running,
             count(*) filter (where status = 'completed') as completed,
             count(*) filter (where status = 'failed')    as failed,
             count(*) filter (where method = 'GFN2-xTB')  as gfn2_xtb,
             count(*) filter (where method = 'GFN1-xTB')  as gfn1_xtb,
             count(*) filter (where method = 'GFN0-xTB')  as gfn0_xtb,
             count(*) filter (where method = 'GFN-FF')    as gfn_ff
        from public.calculations
       group by user_id
    ) c on c.user_id = m.user_id
    left join (select user_id, count(*) as n from public.atomic_properties group by user_id) a
      on a.user_id = m.user_id;
end;
$$;

comment on function public.refresh_user_stats() is
  'Rebuilds user_stats from molecules, calculations and atomic_properties under share locks. Owner only (repair).';
revoke execute on function public.refresh_user_stats() from public, anon, authenticated, service_role;
