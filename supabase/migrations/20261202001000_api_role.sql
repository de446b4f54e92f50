-- The functions' own database role, and a Data API with nothing in it.
--
-- Why: a hosted project serves the `public` schema over PostgREST and GraphQL to any holder of the
-- anon key, and switches to whatever role the caller's JWT names among those PostgREST's login
-- role (`authenticator`) may become: anon, authenticated, service_role. Everything granted to
-- `authenticated` was therefore reachable with a user's own token at /rest/v1, beside the
-- functions and without their checks: PATCH a stored result, rpc/ingest_calculations with an
-- unchecked SMILES/InChIKey pair, a batch item's priority or geometry, unlimited
-- rpc/log_performance_metric (issue 16).
--
-- Now:
--   qf_api         NOLOGIN, no BYPASSRLS, a member of authenticated (for the auth schema only).
--                  The functions' per-request transaction
--                  (supabase/functions/_shared/db.ts, withCaller) switches to it for a user's token
--                  and for the service-role key acting for a user, with the same request.jwt.claims,
--                  so the policies still apply through (select auth.uid()). It takes over every
--                  grant and policy that `authenticated` had. `authenticator` is not a member, so
--                  no token can name it; the connecting user of the functions (`postgres` on a
--                  hosted project, not a superuser there) is, with SET and without INHERIT.
--   anon,          nothing on any table, view, sequence or function of the project: not even
--   authenticated  EXECUTE through PUBLIC. They keep only USAGE on the schema, which the platform
--                  grants and the Data API needs to start; with no object granted, REST, GraphQL and
--                  RPC find nothing (checked by test/db/privileges.test.ts).
--   service_role   keeps what it had: the privileges the functions need when the service-role key
--                  works across users (`all_users: true` runs as service_role, which bypasses RLS).
--                  Holders of that key are trusted operators; the Data API is also switched off for
--                  the project (supabase/config.toml [api] enabled = false), so even they reach the
--                  data only through the functions. It loses only the default privileges a hosted
--                  project gives it on sequences, which nothing uses.
--
-- The revokes are explicit and cover every object that exists now, because on a hosted project
-- (and on the local stack, whose bootstrap reproduces it) each new table, sequence and function in
-- public is born with ALL granted to anon, authenticated and service_role, and EXECUTE to PUBLIC.
-- The default privileges themselves are left as the platform sets them, so that a later migration
-- that forgets its revokes leaks locally exactly as it would on hosted, and the privilege test
-- catches it.

-- ---------------------------------------------------------------------------------------------
-- The role
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'qf_api') then
    create role qf_api nologin noinherit;
  end if;
end
$$;

-- It inherits what the platform gives a signed-in user, and nothing of ours: USAGE on the auth
-- schema and EXECUTE on auth.uid(), which the SQL functions look up at run time (on a hosted
-- project the auth schema belongs to the platform and `postgres` may not grant on it, but it may
-- grant `authenticated`). After this migration `authenticated` holds nothing on the project's
-- objects, so this adds no access to them; policies are written `to qf_api`.
grant authenticated to qf_api with inherit true, set false;

comment on role qf_api is
  'Quantum Forge functions, per request, for a user (or the service-role key acting for one). NOLOGIN; '
  'only the functions'' connecting user may SET ROLE to it; no API token can name it.';

-- The functions' connecting user may become it. `postgres` is that user on a hosted project;
-- current_user is the one pushing the migrations (the same user locally).
do $$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'postgres') then
    execute 'grant qf_api to postgres with inherit false, set true';
  end if;
  if current_user <> 'postgres' then
    execute format('grant qf_api to %I with inherit false, set true', current_user);
  end if;
  -- PostgREST's login role must never be able to switch to it.
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticator')
     and pg_catalog.pg_has_role('authenticator', 'qf_api', 'MEMBER') then
    raise exception 'authenticator is a member of qf_api: a token could name the functions'' role'
      using errcode = 'insufficient_privilege';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Nothing for the Data API roles
-- ---------------------------------------------------------------------------------------------
-- Tables, views and (column privileges included) everything else of relation kind.
revoke all on all tables in schema public from anon, authenticated;
-- Sequences: no API role draws from them (identity columns need no sequence privilege).
revoke all on all sequences in schema public from public, anon, authenticated, service_role;
-- Functions and procedures: PUBLIC too, or anon and authenticated keep EXECUTE through it.
revoke all on all routines in schema public from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- qf_api: what `authenticated` had, table by table
-- ---------------------------------------------------------------------------------------------
grant select, insert, update, delete on table public.molecules to qf_api;
grant select, insert, update, delete on table public.calculations to qf_api;
-- atomic_properties: written once with the calculation, deleted with it, never updated.
grant select, insert, delete on table public.atomic_properties to qf_api;
-- batch_jobs: counters, timestamps and status stamps are the triggers'; status may only become
-- cancelled (trigger batch_jobs_status_transition).
grant select, delete on table public.batch_jobs to qf_api;
grant insert (id, user_id, name, method, task, solvent, max_attempts, priority, metadata, xtb_args, tags)
  on table public.batch_jobs to qf_api;
grant update (name, status, method, task, solvent, max_attempts, priority, metadata, tags)
  on table public.batch_jobs to qf_api;
grant select, insert, update, delete on table public.batch_items to qf_api;
-- batch_claim_turns: only all-users claims (service_role) write it. A user's claim runs the same
-- statement, which names the table, so qf_api needs the privileges to run it; with RLS on and no
-- policy for qf_api it reads and writes no row (and that claim writes none).
grant select, insert, update on table public.batch_claim_turns to qf_api;
-- Read-only: written by triggers and security definer functions only.
grant select on table public.event_logs, public.user_stats_slots to qf_api;
grant select on table public.user_stats, public.database_stats, public.batch_progress
  to qf_api;

grant execute on function
  public.ingest_calculations(jsonb, int[], int[], text[], int[], float8[], float8[], float8[], float8[],
                             float8[], float8[], float8[], float8[], jsonb),
  public.log_performance_metric(jsonb),
  public.adopt_legacy_molecules(uuid, jsonb),
  public.batch_caller(boolean),
  public.batch_item_attempt_limit(),
  public.batch_item_history_length(),
  public.batch_item_append_attempt(jsonb, jsonb),
  public.batch_item_close_attempt(jsonb, text, text, text, timestamptz),
  public.add_batch_items(uuid, jsonb, jsonb),
  public.create_batch(jsonb, jsonb, jsonb),
  public.claim_batch_items(text, integer, integer, uuid, text[], boolean),
  public.heartbeat_batch_items(text, uuid[], integer, boolean),
  public.fail_batch_item(uuid, text, text, text, boolean),
  public.complete_batch_items(text, uuid[], uuid[]),
  public.lock_items_for_completion(text, uuid[]),
  public.batch_item_held(text, text, uuid, text),
  public.cancel_batch(uuid, boolean),
  public.retry_batch(uuid, boolean),
  public.formula_elements(text),
  public.calculation_histograms(integer)
  to qf_api;

-- ---------------------------------------------------------------------------------------------
-- The policies follow the grants: each applies to qf_api, and to no Data API role.
-- ---------------------------------------------------------------------------------------------
alter policy molecules_select_own on public.molecules to qf_api;
alter policy molecules_insert_own on public.molecules to qf_api;
alter policy molecules_update_own on public.molecules to qf_api;
alter policy molecules_delete_own on public.molecules to qf_api;

alter policy calculations_select_own on public.calculations to qf_api;
alter policy calculations_insert_own on public.calculations to qf_api;
alter policy calculations_update_own on public.calculations to qf_api;
alter policy calculations_delete_own on public.calculations to qf_api;

alter policy atomic_properties_select_own on public.atomic_properties to qf_api;
alter policy atomic_properties_insert_own on public.atomic_properties to qf_api;
alter policy atomic_properties_delete_own on public.atomic_properties to qf_api;

alter policy batch_jobs_select_own on public.batch_jobs to qf_api;
alter policy batch_jobs_insert_own on public.batch_jobs to qf_api;
alter policy batch_jobs_update_own on public.batch_jobs to qf_api;
alter policy batch_jobs_delete_own on public.batch_jobs to qf_api;

alter policy batch_items_select_own on public.batch_items to qf_api;
alter policy batch_items_insert_own on public.batch_items to qf_api;
alter policy batch_items_update_own on public.batch_items to qf_api;
alter policy batch_items_delete_own on public.batch_items to qf_api;

alter policy event_logs_select_own on public.event_logs to qf_api;
alter policy user_stats_slots_select_own on public.user_stats_slots to qf_api;
