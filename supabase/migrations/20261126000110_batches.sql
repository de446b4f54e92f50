-- Batch jobs and their items: a queue of calculations for runners to claim.
--
--   batch_jobs   a named set of molecules to compute with default parameters. Its item counters
--                (total/pending/claimed/completed/failed/cancelled_items) and its status are kept
--                by triggers on batch_items (migration batch_counters), never by application code.
--   batch_items  one molecule to compute; claimed by a runner under a lease, retried up to the
--                batch's max_attempts, linked to the calculation it produced.
--
-- What the queue needs beyond that:
--   batch_jobs.xtb_args      extra xtb options the runner appends, from a whitelist
--                            (--iterations N, --cycles N, --acc X, --etemp T); the API checks the
--                            values, the constraint keeps anything else out of the table.
--   batch_jobs.tags          free labels, as on molecules and calculations.
--   batch_items.name         the item's label as given at creation (the molecule keeps its own).
--   batch_items.priority     the batch's priority, copied at creation: the claim orders by it
--                            without joining batch_jobs row by row.
--   batch_items.seq          creation order across all items (identity); ties within a request
--                            follow the order the items were sent in. Also the cursor of item pages.
--   so that "highest priority first, then oldest" is one ordered index scan for the claim
--   (migration batch_claim).
--
-- What deleting results does to items (issue 16): a finished item is the record of work done, and
-- stays in its batch as it finished, so counters and batch status do not move when results are
-- deleted; they still equal count(*) of the items per status.
--   molecule deleted     its finished items (completed, failed, cancelled) stay, with molecule_id
--                        null; their status, attempts and history are unchanged. A live item
--                        (pending, claimed) cannot run without its molecule: it becomes cancelled
--                        in the same statement (trigger batch_items_molecule_deleted; its open
--                        attempt is closed as cancelled), which the counters then count as any
--                        cancel. The DELETE route still answers 409 for live items unless
--                        force=true, so this happens through the API only when asked for; it is
--                        what makes deleting a user's account work.
--   calculation deleted  the item that produced it stays completed, with calculation_id null.
--   the trail            both unlinkings write batch_item_updated events with previous_molecule_id
--                        or previous_calculation_id and the actor (migration event_triggers).
--   retry_batch          skips failed items whose molecule is gone: they cannot run again.
-- Cascading instead deleted finished items and took them out of the counters: a `failed` batch
-- whose failed item's molecule was deleted turned `completed`.
--
-- Also adds calculations.batch_item_id's foreign key, now that batch_items exists. As in
-- migration molecules_calculations, children reference parents by (user_id, parent_id), RLS is
-- enabled and the API roles' privileges are revoked here.

-- ---------------------------------------------------------------------------------------------
-- batch_jobs
-- ---------------------------------------------------------------------------------------------
create table public.batch_jobs (
  id              uuid        not null default gen_random_uuid(),
  user_id         uuid        not null default auth.uid(),
  name            text        not null,
  status          text        not null default 'pending',
  method          text        not null default 'GFN2-xTB',
  task            text        not null default 'sp',
  solvent         text,
  xtb_args        text[]      not null default '{}',
  max_attempts    integer     not null default 3,
  priority        integer     not null default 0,
  total_items     integer     not null default 0,
  pending_items   integer     not null default 0,
  claimed_items   integer     not null default 0,
  completed_items integer     not null default 0,
  failed_items    integer     not null default 0,
  cancelled_items integer     not null default 0,
  started_at      timestamptz,
  completed_at    timestamptz,
  tags            text[]      not null default '{}',
  metadata        jsonb       not null default '{}',
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),

  constraint batch_jobs_pkey primary key (id),
  constraint batch_jobs_user_id_id_key unique (user_id, id),
  constraint batch_jobs_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
  constraint batch_jobs_name_length check (char_length(name) between 1 and 200),
  constraint batch_jobs_status_valid
    check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  constraint batch_jobs_method_valid check (method in ('GFN2-xTB', 'GFN1-xTB', 'GFN0-xTB', 'GFN-FF')),
  constraint batch_jobs_task_valid check (task in ('sp', 'grad', 'opt')),
  constraint batch_jobs_solvent_format check (solvent ~ '^[a-z0-9][a-z0-9_,-]{0,63}$'),
  constraint batch_jobs_xtb_args_whitelist check (
    array_position(xtb_args, null) is null
    and position(' ' in array_to_string(xtb_args, '')) = 0
    and (cardinality(xtb_args) = 0
         or array_to_string(xtb_args, ' ') ~
              '^(--(iterations|cycles) [0-9]{1,6}|--(acc|etemp) [0-9.][0-9.eE+-]{0,23})( --(iterations|cycles) [0-9]{1,6}| --(acc|etemp) [0-9.][0-9.eE+-]{0,23})*$')),
  constraint batch_jobs_max_attempts_range check (max_attempts between 1 and 100),
  constraint batch_jobs_item_counts_nonnegative
    check (pending_items >= 0 and claimed_items >= 0 and completed_items >= 0
           and failed_items >= 0 and cancelled_items >= 0),
  constraint batch_jobs_item_counts_sum
    check (total_items = pending_items + claimed_items + completed_items + failed_items + cancelled_items),
  constraint batch_jobs_tags_no_nulls check (array_position(tags, null) is null),
  constraint batch_jobs_metadata_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.batch_jobs is
  'A named set of molecules to compute. Item counters and status are kept by triggers on batch_items.';
comment on column public.batch_jobs.status is
  'pending: no item claimed yet. running: at least one item claimed or finished, some still pending or claimed. '
  'completed: no pending or claimed items left and none failed. failed: no pending or claimed items left and at least '
  'one failed past its attempts. cancelled: set by the owner; stops the remaining items. Only cancelled may be set '
  'directly; the others follow the items.';
comment on column public.batch_jobs.method is 'Default method for the items'' calculations.';
comment on column public.batch_jobs.xtb_args is
  'Extra xtb options as argv words, e.g. {--iterations,1}; only --iterations, --cycles, --acc and --etemp.';
comment on column public.batch_jobs.max_attempts is 'How many times an item may be claimed before it fails for good.';
comment on column public.batch_jobs.priority is 'Higher is claimed first.';
comment on column public.batch_jobs.started_at is 'When the batch became running (first claim).';
comment on column public.batch_jobs.completed_at is 'When the batch became completed, failed or cancelled.';
comment on column public.batch_jobs.tags is 'Free labels of the batch.';

create trigger batch_jobs_set_updated_at
  before update on public.batch_jobs
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

alter table public.batch_jobs enable row level security;
revoke all on table public.batch_jobs from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- batch_items
-- ---------------------------------------------------------------------------------------------
create table public.batch_items (
  id               uuid        not null default gen_random_uuid(),
  user_id          uuid        not null default auth.uid(),
  batch_job_id     uuid        not null,
  molecule_id      uuid,
  name             text,
  input_geometry   jsonb,
  charge           integer     not null default 0,
  multiplicity     integer     not null default 1,
  priority         integer     not null default 0,
  seq              bigint      generated always as identity,
  status           text        not null default 'pending',
  attempts         integer     not null default 0,
  total_attempts   integer     not null default 0,
  claimed_by       text,
  lease_expires_at timestamptz,
  calculation_id   uuid,
  last_error       text,
  attempt_history  jsonb       not null default '[]',
  completed_at     timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),

  constraint batch_items_pkey primary key (id),
  constraint batch_items_user_id_id_key unique (user_id, id),
  constraint batch_items_batch_job_fkey foreign key (user_id, batch_job_id)
    references public.batch_jobs (user_id, id) on delete cascade,
  -- Deleting the molecule keeps the item as the record of work done; only the link is cleared
  -- (and a live item is cancelled, trigger batch_items_molecule_deleted).
  constraint batch_items_molecule_fkey foreign key (user_id, molecule_id)
    references public.molecules (user_id, id) on delete set null (molecule_id),
  -- Deleting the calculation keeps the item (and its user_id); only the link is cleared.
  constraint batch_items_calculation_fkey foreign key (user_id, calculation_id)
    references public.calculations (user_id, id) on delete set null (calculation_id),
  constraint batch_items_status_valid
    check (status in ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
  constraint batch_items_name_length check (char_length(name) <= 500),
  constraint batch_items_multiplicity_positive check (multiplicity >= 1),
  constraint batch_items_priority_range check (priority between -1000000 and 1000000),
  constraint batch_items_attempts_nonnegative check (attempts >= 0),
  constraint batch_items_total_attempts_covers_round check (total_attempts >= attempts),
  constraint batch_items_claim_has_lease
    check (status <> 'claimed' or (claimed_by is not null and lease_expires_at is not null)),
  constraint batch_items_input_geometry_array check (jsonb_typeof(input_geometry) = 'array'),
  constraint batch_items_attempt_history_array check (jsonb_typeof(attempt_history) = 'array'),
  -- An item without a molecule is finished.
  constraint batch_items_live_has_molecule
    check (molecule_id is not null or status in ('completed', 'failed', 'cancelled'))
)
-- Room on each page for a row's next version: a heartbeat changes no indexed column
-- (lease_expires_at, updated_at), so with room on the page it is a HOT update that writes no index
-- entry; claims and completions, which change status, at least put the new version beside the old.
with (fillfactor = 80);

comment on table public.batch_items is
  'One molecule of a batch to compute. Changes here keep batch_jobs'' counters and status (statement-level triggers).';
comment on column public.batch_items.molecule_id is
  'The molecule to compute. Null once the molecule was deleted, which only a finished (completed, failed or '
  'cancelled) item survives.';
comment on column public.batch_items.calculation_id is
  'The calculation the item produced. Null on a completed item once that calculation was deleted.';
comment on column public.batch_items.name is 'The item''s label as given when the batch was created.';
comment on column public.batch_items.priority is 'The batch''s priority when the item was created; higher is claimed first.';
comment on column public.batch_items.seq is 'Creation order (identity): the claim''s "oldest first" and the cursor of item pages.';
comment on column public.batch_items.status is
  'pending: waiting to be claimed (again). claimed: a runner holds it until lease_expires_at. completed: its '
  'calculation completed. failed: failed on its last allowed attempt. cancelled: its batch was cancelled.';
comment on column public.batch_items.input_geometry is
  'Optional input geometry: [{"element": "C", "xyz": [x, y, z]}, ...] with coordinates in Å; null means generate one.';
comment on column public.batch_items.attempts is
  'Claims in the current round: a retry of the batch starts a new round at 0. Fails the item at the batch''s max_attempts.';
comment on column public.batch_items.total_attempts is
  'Claims ever, across retries; never reset. At batch_item_attempt_limit() the item fails for good and is not retried.';
comment on column public.batch_items.attempt_history is
  'The last attempts (at most batch_item_history_length()), oldest first, one object each: {"attempt", "runner", '
  '"started_at", "ended_at", "outcome", "error"}. total_attempts counts them all.';
comment on column public.batch_items.completed_at is
  'When the item became completed or failed (set by trigger); drives batch_progress.items_per_minute.';

-- batch_progress's finished-lately count. Partial: an item gets an entry when it finishes, not when
-- it is created or claimed (a claim changes status, so it is a non-HOT update that writes a new
-- entry in every index the new version qualifies for). The foreign key (user_id, batch_job_id) is
-- served by batch_items_user_id_batch_job_id_seq_idx.
create index batch_items_user_id_batch_job_id_completed_at_idx
  on public.batch_items (user_id, batch_job_id, completed_at)
  where completed_at is not null;
-- Foreign key (user_id, molecule_id): deleting a molecule finds its items.
create index batch_items_user_id_molecule_id_idx on public.batch_items (user_id, molecule_id);
-- Foreign key (user_id, calculation_id): deleting a calculation finds the item that points at it.
create index batch_items_user_id_calculation_id_idx on public.batch_items (user_id, calculation_id)
  where calculation_id is not null;

-- The claim: a user's waiting or claimed items in the user's claim order, for a user's runner and
-- for each user an all-users runner serves in turn (and its loose scan for the users with waiting
-- items). There is no claim order across users: priority never ranks one user against another.
-- Claimed items stay in the index so that an expired lease is found in its place; live ones are
-- few (runners × limit) and skipped cheaply.
create index batch_items_user_id_claim_order_idx
  on public.batch_items (user_id, priority desc, seq)
  where status in ('pending', 'claimed');

-- Pages of a batch's items (GET /batches/:id), in creation order; also the foreign key
-- (user_id, batch_job_id): deleting a batch finds its items.
create index batch_items_user_id_batch_job_id_seq_idx
  on public.batch_items (user_id, batch_job_id, seq);

create function public.batch_items_stamp_completed_at()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  -- Unless the writer sets completed_at itself, it is now() when the item finishes and null otherwise.
  if new.completed_at is not distinct from old.completed_at then
    new.completed_at := case when new.status in ('completed', 'failed') then now() end;
  end if;
  return new;
end;
$$;

comment on function public.batch_items_stamp_completed_at() is
  'BEFORE UPDATE OF status row trigger: stamps batch_items.completed_at when an item finishes, clears it on retry.';
revoke execute on function public.batch_items_stamp_completed_at() from public, anon, authenticated, service_role;

create trigger batch_items_stamp_completed_at
  before update of status on public.batch_items
  for each row when (old.status is distinct from new.status)
  execute function public.batch_items_stamp_completed_at();

-- A live item whose molecule goes is cancelled; its finished items stay as they finished.
create function public.batch_items_cancel_without_molecule()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  -- Attached with `when (new.molecule_id is null and old.molecule_id is not null)`.
  if new.status in ('pending', 'claimed') then
    if new.status = 'claimed' then
      new.attempt_history := public.batch_item_close_attempt(
        new.attempt_history, new.claimed_by, 'cancelled', 'molecule deleted', now());
    end if;
    new.status := 'cancelled';
    new.lease_expires_at := null;
  end if;
  return new;
end;
$$;

comment on function public.batch_items_cancel_without_molecule() is
  'BEFORE UPDATE OF molecule_id row trigger on batch_items: a pending or claimed item whose molecule was deleted '
  'becomes cancelled (an open attempt is closed as cancelled); finished items keep their status.';
revoke execute on function public.batch_items_cancel_without_molecule() from public, anon, authenticated, service_role;

create trigger batch_items_molecule_deleted
  before update of molecule_id on public.batch_items
  for each row when (new.molecule_id is null and old.molecule_id is not null)
  execute function public.batch_items_cancel_without_molecule();

create trigger batch_items_set_updated_at
  before update on public.batch_items
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

alter table public.batch_items enable row level security;
revoke all on table public.batch_items from public, anon, authenticated, service_role;
-- Items are inserted through the owner's functions and qf_api's table grant; neither needs the
-- identity sequence.
revoke all on sequence public.batch_items_seq_seq from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- calculations.batch_item_id
-- ---------------------------------------------------------------------------------------------
alter table public.calculations
  add constraint calculations_batch_item_fkey foreign key (user_id, batch_item_id)
    references public.batch_items (user_id, id) on delete set null (batch_item_id);

-- Foreign key (user_id, batch_item_id): deleting an item finds its calculation.
create index calculations_user_id_batch_item_id_idx on public.calculations (user_id, batch_item_id)
  where batch_item_id is not null;
