-- user_stats: per-user counters behind the database_stats view, kept by statement-level triggers.
--
-- Counting a million calculations on every stats request is not an option, so each insert,
-- delete or status/method change adds its signed difference to a few small rows per user:
--
--   molecules                                   +/- on insert/delete of molecules
--   calculations_<status> and calculations_<method>  +/- on insert/delete, and on an update that
--                                               moves a row to another status or method
--   atoms                                       +/- on insert/delete of atomic_properties
--
--   public.user_stats_slots   the counters, one row per (user, slot). A transaction adds to the
--                             slot of its database session (public.user_stats_slot(), the backend
--                             pid modulo 16): a session runs one transaction at a time, so two
--                             concurrent transactions share a slot only when their pids do modulo
--                             16. A slot's own values may go negative (a row counted in one slot
--                             and deleted through another); only the sum per user means anything.
--   public.user_stats         a view, one row per user: the sums of its slots. database_stats
--                             reads it.
--
-- Why slots: a row lock is held until the transaction commits, and every ingest, complete and
-- delete adds to the user's counters. With one row per user, twenty runners completing items of
-- one user's batch waited on each other: pg_stat_statements showed the counter upsert at 73 ms of
-- a 75 ms ingest statement, nearly all of it lock wait.
--
-- Batches are few per user and are counted live in the view instead: keeping them here would make
-- the batch_items triggers lock these rows too, in the opposite order to ingest, and risk deadlocks.
--
-- Concurrency: each change is one `insert ... on conflict (user_id, slot) do update set x = x +
-- excluded.x`, so concurrent transactions that share a slot serialise on that row until they
-- commit, and never lose an increment. Rows are written in user_id order, so multi-user statements
-- cannot deadlock. There is no foreign key to auth.users: while a user is deleted, the cascaded
-- deletes still bring their sums down to zero. public.refresh_user_stats() rebuilds every user's
-- figures from the tables into slot 0 (owner only), e.g. after a TRUNCATE, which fires no
-- row-counting trigger.

create table public.user_stats_slots (
  user_id                uuid        not null,
  slot                   smallint    not null default 0,
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

  constraint user_stats_slots_pkey primary key (user_id, slot),
  constraint user_stats_slots_slot_range check (slot between 0 and 15),
  -- Every calculation has exactly one status and one method. (No `>= 0` check: the triggers
  -- upsert signed differences, and PostgreSQL checks the proposed row, a negative difference
  -- included, before it resolves the conflict into an update.)
  constraint user_stats_slots_calculations_consistent
    check (calculations_pending + calculations_running + calculations_completed + calculations_failed
           = calculations_gfn2_xtb + calculations_gfn1_xtb + calculations_gfn0_xtb + calculations_gfn_ff)
);

comment on table public.user_stats_slots is
  'Per-user counters (molecules, calculations by status and by method, atoms) in up to 16 slots per user, kept by '
  'statement-level triggers; a user''s figures are the sums over the slots (public.user_stats).';
comment on column public.user_stats_slots.slot is
  'The writing session''s slot (public.user_stats_slot()); spreads one user''s concurrent writers over several rows.';
comment on column public.user_stats_slots.atoms is 'Rows of atomic_properties.';

create trigger user_stats_slots_set_updated_at
  before update on public.user_stats_slots
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

alter table public.user_stats_slots enable row level security;
revoke all on table public.user_stats_slots from public, anon, authenticated, service_role;

create function public.user_stats_slot()
  returns smallint
  language sql stable parallel restricted set search_path = ''
as $$
  select (pg_catalog.pg_backend_pid() % 16)::smallint
$$;

comment on function public.user_stats_slot() is
  'The user_stats_slots row this session writes: its backend pid modulo 16.';
revoke execute on function public.user_stats_slot() from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- The user_stats view: one row per user
-- ---------------------------------------------------------------------------------------------
create view public.user_stats
  with (security_invoker = true)
as
select s.user_id,
       sum(s.molecules)::bigint              as molecules,
       sum(s.calculations_pending)::bigint   as calculations_pending,
       sum(s.calculations_running)::bigint   as calculations_running,
       sum(s.calculations_completed)::bigint as calculations_completed,
       sum(s.calculations_failed)::bigint    as calculations_failed,
       sum(s.calculations_gfn2_xtb)::bigint  as calculations_gfn2_xtb,
       sum(s.calculations_gfn1_xtb)::bigint  as calculations_gfn1_xtb,
       sum(s.calculations_gfn0_xtb)::bigint  as calculations_gfn0_xtb,
       sum(s.calculations_gfn_ff)::bigint    as calculations_gfn_ff,
       sum(s.atoms)::bigint                  as atoms,
       min(s.created_at)                     as created_at,
       max(s.updated_at)                     as updated_at
  from public.user_stats_slots s
 group by s.user_id;

comment on view public.user_stats is
  'Per user: the sums of that user''s user_stats_slots rows (molecules, calculations by status and method, atoms).';

revoke all on table public.user_stats from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- molecules -> user_stats_slots.molecules, atomic_properties -> user_stats_slots.atoms
-- ---------------------------------------------------------------------------------------------
-- One function for both tables, which count rows per user alike: the trigger's argument names
-- the counter. Neither table's counted rows change on update (atomic_properties is never updated).
create function public.count_user_stats_rows()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  v_user_ids uuid[];
  v_counts   bigint[];
begin
  -- Signed row counts per user: + for inserted rows, - for deleted ones.
  if tg_op = 'INSERT' then
    select array_agg(r.user_id), array_agg(r.n) into v_user_ids, v_counts
      from (select user_id, count(*) as n from new_rows group by user_id) r;
  else
    select array_agg(r.user_id), array_agg(-r.n) into v_user_ids, v_counts
      from (select user_id, count(*) as n from old_rows group by user_id) r;
  end if;

  insert into public.user_stats_slots as s (user_id, slot, molecules, atoms)
  select c.user_id, public.user_stats_slot(),
         case tg_argv[0] when 'molecules' then c.n else 0 end,
         case tg_argv[0] when 'atoms' then c.n else 0 end
    from unnest(v_user_ids, v_counts) as c (user_id, n)
   order by c.user_id
  on conflict (user_id, slot) do update set molecules = s.molecules + excluded.molecules,
                                            atoms     = s.atoms     + excluded.atoms;
  return null;
end;
$$;

comment on function public.count_user_stats_rows() is
  'AFTER INSERT/DELETE statement trigger on molecules (argument molecules) and atomic_properties (argument atoms): '
  'adds the signed row count per user to that counter of the session''s user_stats_slots row.';

select public.create_statement_triggers('public.molecules', 'public.count_user_stats_rows', '{insert, delete}',
                                        'molecules_count_user_stats', '{molecules}');
select public.create_statement_triggers('public.atomic_properties', 'public.count_user_stats_rows', '{insert, delete}',
                                        'atomic_properties_count_user_stats', '{atoms}');

-- ---------------------------------------------------------------------------------------------
-- calculations -> user_stats_slots.calculations_<status>, calculations_<method>
-- ---------------------------------------------------------------------------------------------
create function public.calculations_count_user_stats()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  changes jsonb;
begin
  -- Signed changes per (user, status, method): +1 for each row as it is now, -1 as it was. The
  -- same three statements as batch_items_count_batch_jobs over other columns: each names the
  -- transition tables its event has (old_rows only on update and delete, new_rows on insert and update).
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
    return null;  -- nothing to count: no counter row is locked
  end if;

  insert into public.user_stats_slots as s (
    user_id, slot,
    calculations_pending, calculations_running, calculations_completed, calculations_failed,
    calculations_gfn2_xtb, calculations_gfn1_xtb, calculations_gfn0_xtb, calculations_gfn_ff)
  select c.user_id, public.user_stats_slot(),
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
  on conflict (user_id, slot) do update set
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
  'AFTER INSERT/UPDATE/DELETE statement trigger on calculations: adds signed counts per user, status and method to '
  'the session''s user_stats_slots row.';

select public.create_statement_triggers('public.calculations', 'public.calculations_count_user_stats', '{insert, update, delete}');

-- ---------------------------------------------------------------------------------------------
-- Repair: rebuild every user's figures from the tables, into slot 0 (database owner only).
-- ---------------------------------------------------------------------------------------------
create function public.refresh_user_stats()
  returns void
  language plpgsql security definer set search_path = ''
as $$
begin
  -- Writers of the counted tables wait until this transaction ends, so no change slips between
  -- the counting and the storing.
  lock table public.molecules, public.calculations, public.atomic_properties in share mode;
  lock table public.user_stats_slots in exclusive mode;

  delete from public.user_stats_slots;

  insert into public.user_stats_slots (
    user_id, slot, molecules,
    calculations_pending, calculations_running, calculations_completed, calculations_failed,
    calculations_gfn2_xtb, calculations_gfn1_xtb, calculations_gfn0_xtb, calculations_gfn_ff,
    atoms)
  select m.user_id, 0, m.n,
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
  'Rebuilds user_stats_slots from molecules, calculations and atomic_properties under share locks: every user''s '
  'figures into slot 0, the other slots emptied. Owner only (repair).';
revoke execute on function public.refresh_user_stats() from public, anon, authenticated, service_role;
