-- What the batch queue needs beyond the batch tables: per-batch xtb options and tags, and on each
-- item its name, a copy of its batch's priority and a creation sequence, so that "highest
-- priority first, then oldest" is one ordered index scan for the claim query (migration
-- batch_queue_functions).
--
--   batch_jobs.xtb_args      extra xtb options the runner appends, from a whitelist
--                            (--iterations N, --cycles N, --acc X, --etemp T); the API checks the
--                            values, the constraint keeps anything else out of the table.
--   batch_jobs.tags          free labels, as on molecules and calculations.
--   batch_items.name         the item's label as given at creation (the molecule keeps its own).
--   batch_items.priority     the batch's priority, copied at creation: the claim orders by it
--                            without joining batch_jobs row by row.
--   batch_items.seq          creation order across all items (identity); ties within a request
--                            follow the order the items were sent in. Also the cursor of item pages.

alter table public.batch_jobs
  add column xtb_args text[] not null default '{}',
  add column tags     text[] not null default '{}',
  add constraint batch_jobs_xtb_args_whitelist check (
    array_position(xtb_args, null) is null
    and position(' ' in array_to_string(xtb_args, '')) = 0
    and (cardinality(xtb_args) = 0
         or array_to_string(xtb_args, ' ') ~
              '^(--(iterations|cycles) [0-9]{1,6}|--(acc|etemp) [0-9.][0-9.eE+-]{0,23})( --(iterations|cycles) [0-9]{1,6}| --(acc|etemp) [0-9.][0-9.eE+-]{0,23})*$')),
  add constraint batch_jobs_tags_no_nulls check (array_position(tags, null) is null);

comment on column public.batch_jobs.xtb_args is
  'Extra xtb options as argv words, e.g. {--iterations,1}; only --iterations, --cycles, --acc and --etemp.';
comment on column public.batch_jobs.tags is 'Free labels of the batch.';

-- The insert grant on batch_jobs is per column (counters are the triggers'); add the new ones.
grant insert (xtb_args, tags) on table public.batch_jobs to authenticated, service_role;
grant update (tags) on table public.batch_jobs to authenticated, service_role;

alter table public.batch_items
  add column name     text,
  add column priority integer not null default 0,
  add column seq      bigint  generated always as identity,
  add constraint batch_items_name_length check (char_length(name) <= 500),
  add constraint batch_items_priority_range check (priority between -1000000 and 1000000);

comment on column public.batch_items.name is 'The item''s label as given when the batch was created.';
comment on column public.batch_items.priority is 'The batch''s priority when the item was created; higher is claimed first.';
comment on column public.batch_items.seq is 'Creation order (identity): the claim''s "oldest first" and the cursor of item pages.';

-- The claim of a user's runner: the user's waiting or claimed items in claim order. Claimed items
-- stay in the index so that an expired lease is found in its place; live ones are few (runners ×
-- limit) and skipped cheaply.
create index batch_items_user_id_claim_order_idx
  on public.batch_items (user_id, priority desc, seq)
  where status in ('pending', 'claimed');

-- The claim of a service-role runner with all_users: the same order across users, spelled
-- (-priority, seq) so that only that claim can use it. Were it (priority desc, seq), the planner
-- would also walk it for a single user's claim (its LIMIT estimate assumes the user's rows are
-- spread evenly) and filter out every other user's backlog on each claim.
create index batch_items_claim_order_idx
  on public.batch_items ((-priority), seq)
  where status in ('pending', 'claimed');

-- Pages of a batch's items (GET /batches/:id), in creation order.
create index batch_items_user_id_batch_job_id_seq_idx
  on public.batch_items (user_id, batch_job_id, seq);
