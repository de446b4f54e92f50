-- Local platform bootstrap: recreates only what Supabase's Postgres image already provides,
-- so that the migrations run unchanged on a plain PostgreSQL 17 (the embedded one, or CI's).
-- For local and test databases ONLY. It is never pushed to a hosted project, where all of this
-- exists already and belongs to the platform. Idempotent: safe to run on every start.

-- The API roles. NOLOGIN as on Supabase; service_role bypasses row-level security.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;
alter role service_role bypassrls;

-- The connecting user may switch to each API role, as PostgREST's authenticator does.
grant anon, authenticated, service_role to current_user;

-- PostgREST's own login role. On hosted it logs in (with a password the platform keeps) and then
-- becomes the role a token names: it is a member of anon, authenticated and service_role, and of
-- nothing else, so a token naming any other role is refused. Locally nothing logs in as it (no
-- password); it exists so that tests can check what it may become.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator noinherit login;
  end if;
end
$$;
grant anon, authenticated, service_role to authenticator;

create schema if not exists extensions;
create schema if not exists auth;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

-- The hosted Data API defaults (supabase/postgres, migrations/db/init-scripts/
-- 00000000000000-initial-schema.sql, run there as the migration user): every table, sequence and
-- function the migration user creates in public is born with ALL granted to anon, authenticated
-- and service_role, and functions also get EXECUTE for PUBLIC (PostgreSQL's own default). They
-- are reproduced here so that the local stack is exactly as permissive as a hosted project, and
-- a migration that forgets to revoke leaks here too (test/db/privileges.test.ts).
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;

-- graphql_public, which the hosted Data API exposes beside public (supabase/postgres,
-- migrations/db/migrations/20220317095840_pg_graphql.sql): the API roles may use it, new objects
-- in it are granted to them, and its one function, graphql(), is the GraphQL entry point. Locally
-- there is no pg_graphql, so graphql() is the same placeholder a hosted project has before the
-- extension is enabled: it answers with an error and reads nothing.
create schema if not exists graphql_public;
grant usage on schema graphql_public to anon, authenticated, service_role;
alter default privileges in schema graphql_public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema graphql_public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema graphql_public grant all on functions to anon, authenticated, service_role;
create or replace function graphql_public.graphql(
  "operationName" text default null,
  query text default null,
  variables jsonb default null,
  extensions jsonb default null
) returns jsonb
language sql
as $$
  select jsonb_build_object('data', null, 'errors', jsonb_build_array('pg_graphql extension is not enabled.'))
$$;

-- Supabase installs pgcrypto into the extensions schema.
create extension if not exists pgcrypto with schema extensions;

-- A minimal auth.users, so that foreign keys to users can exist.
create table if not exists auth.users (
  id uuid primary key,
  email text,
  created_at timestamptz not null default now()
);

-- auth.uid(), auth.role() and auth.jwt(), defined as Supabase's auth migrations define them.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;
