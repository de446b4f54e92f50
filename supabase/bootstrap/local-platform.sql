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

create schema if not exists extensions;
create schema if not exists auth;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

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
