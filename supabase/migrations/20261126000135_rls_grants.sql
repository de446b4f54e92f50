-- Row-level security policies and explicit grants.
--
-- Every table already has RLS enabled and no API privileges (earlier migrations revoke them).
-- Here each role gets exactly what it needs:
--
--   anon,          nothing (migration api_role says why).
--   authenticated
--   qf_api         the functions working for a user: its own rows only, through one policy per
--                  command, written `user_id = (select auth.uid())` so the uid is computed once per
--                  statement (an init plan), not once per row. Every policy's column leads an index.
--   service_role   the same privileges (it bypasses RLS, as on Supabase, but still needs them).
--                  A service-role caller acting for a user runs as qf_api instead.
--
-- What nobody gets through the API:
--   * event_logs: insert, update, delete (triggers and public.log_performance_metric write it);
--   * user_stats_slots: insert, update, delete (triggers keep it);
--   * atomic_properties: update (written once with its calculation);
--   * batch_jobs: the *_items counters and timestamps (triggers keep them); the status column is
--     updatable, but only to `cancelled` (trigger batch_jobs_status_transition).

-- ---------------------------------------------------------------------------------------------
-- molecules
-- ---------------------------------------------------------------------------------------------
grant select, insert, update, delete on table public.molecules to qf_api, service_role;

create policy molecules_select_own on public.molecules
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy molecules_insert_own on public.molecules
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy molecules_update_own on public.molecules
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy molecules_delete_own on public.molecules
  for delete to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- calculations
-- ---------------------------------------------------------------------------------------------
grant select, insert, update, delete on table public.calculations to qf_api, service_role;

create policy calculations_select_own on public.calculations
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy calculations_insert_own on public.calculations
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy calculations_update_own on public.calculations
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy calculations_delete_own on public.calculations
  for delete to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- atomic_properties (no update: written once, deleted with the calculation)
-- ---------------------------------------------------------------------------------------------
grant select, insert, delete on table public.atomic_properties to qf_api, service_role;

create policy atomic_properties_select_own on public.atomic_properties
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy atomic_properties_insert_own on public.atomic_properties
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy atomic_properties_delete_own on public.atomic_properties
  for delete to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- batch_jobs (counters, status timestamps and created/updated_at are kept by triggers)
-- ---------------------------------------------------------------------------------------------
grant select, delete on table public.batch_jobs to qf_api, service_role;
grant insert (id, user_id, name, method, task, solvent, xtb_args, max_attempts, priority, tags, metadata)
  on table public.batch_jobs to qf_api, service_role;
grant update (name, status, method, task, solvent, max_attempts, priority, tags, metadata)
  on table public.batch_jobs to qf_api, service_role;

create policy batch_jobs_select_own on public.batch_jobs
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy batch_jobs_insert_own on public.batch_jobs
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy batch_jobs_update_own on public.batch_jobs
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy batch_jobs_delete_own on public.batch_jobs
  for delete to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- batch_items
-- ---------------------------------------------------------------------------------------------
grant select, insert, update, delete on table public.batch_items to qf_api, service_role;

create policy batch_items_select_own on public.batch_items
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy batch_items_insert_own on public.batch_items
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy batch_items_update_own on public.batch_items
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy batch_items_delete_own on public.batch_items
  for delete to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- event_logs (read-only for API roles)
-- ---------------------------------------------------------------------------------------------
grant select on table public.event_logs to qf_api, service_role;

create policy event_logs_select_own on public.event_logs
  for select to qf_api
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- user_stats_slots and its view user_stats (read-only for API roles; the view is security
-- invoker, so this policy limits it too)
-- ---------------------------------------------------------------------------------------------
grant select on table public.user_stats_slots, public.user_stats to qf_api, service_role;

create policy user_stats_slots_select_own on public.user_stats_slots
  for select to qf_api
  using (user_id = (select auth.uid()));
