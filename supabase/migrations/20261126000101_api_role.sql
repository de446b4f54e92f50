-- The functions' own database role, created before any table so that every grant and policy can
-- name it in its one definition.
--
-- Why: a hosted project serves the `public` schema over PostgREST and GraphQL to any holder of the
-- anon key, and switches to whatever role the caller's JWT names among those PostgREST's login
-- role (`authenticator`) may become: anon, authenticated, service_role. Anything granted to
-- `authenticated` would therefore be reachable with a user's own token at /rest/v1, beside the
-- functions and without their checks: PATCH a stored result, rpc/ingest_calculations with an
-- unchecked SMILES/InChIKey pair, a batch item's priority or geometry, unlimited
-- rpc/log_performance_metric (issue 16).
--
-- So:
--   qf_api         NOLOGIN, no BYPASSRLS, a member of authenticated (for the auth schema only).
--                  The functions' per-request transaction
--                  (supabase/functions/_shared/db.ts, withCaller) switches to it for a user's token
--                  and for the service-role key acting for a user, with the same request.jwt.claims,
--                  so the policies still apply through (select auth.uid()). Every grant and policy
--                  for a user's work names it (migration rls_grants and the files that define the
--                  functions). `authenticator` is not a member, so no token can name it; the
--                  connecting user of the functions (`postgres` on a hosted project, not a
--                  superuser there) is, with SET and without INHERIT.
--   anon,          nothing on any table, view, sequence or function of the project: not even
--   authenticated  EXECUTE through PUBLIC. They keep only USAGE on the schema, which the platform
--                  grants and the Data API needs to start; with no object granted, REST, GraphQL and
--                  RPC find nothing (checked by test/db/privileges.test.ts).
--   service_role   the privileges the functions need when the service-role key works across users
--                  (`all_users: true` runs as service_role, which bypasses RLS), and nothing on
--                  sequences. Holders of that key are trusted operators; the Data API is also
--                  switched off for the project (supabase/config.toml [api] enabled = false), so even
--                  they reach the data only through the functions.
--
-- On a hosted project (and on the local stack, whose bootstrap reproduces it) each new table,
-- sequence and function in public is born with ALL granted to anon, authenticated and
-- service_role, and EXECUTE to PUBLIC, so each migration revokes on what it creates. The default
-- privileges themselves are left as the platform sets them, so that a migration that forgets its
-- revokes leaks locally exactly as it would on hosted, and the privilege test catches it.

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
-- grant `authenticated`). `authenticated` holds nothing on the project's objects, so this adds
-- no access to them; policies are written `to qf_api`.
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
