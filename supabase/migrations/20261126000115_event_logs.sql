-- event_logs: the append-only history of what happened to a user's data.
--
-- Rows are written by `security definer` trigger functions (migration event_triggers) and, for
-- `performance_metric` and `error`, by public.log_performance_metric() and public.log_error_event()
-- (called by the functions' error handler after a 5xx answer,
-- supabase/functions/_shared/error-events.ts). No API role may insert, update or delete rows
-- directly. Updates and deletes are refused even for the table owner by a trigger;
-- only public.purge_event_logs() (retention, owner-only) may delete old rows.
--
-- Indexes: BRIN on created_at for the retention scan over an append-only, time-ordered table;
-- btree (user_id, created_at) for row-level security and "events in the last 24 hours".
-- actor: who acted, from request.jwt.claims -> 'actor', which the functions set in every
-- transaction (supabase/functions/_shared/db.ts, withCaller):
--   {"role": "authenticated", "sub": <user>, "key": "sha256:…"}
--   {"role": "service_role", "acting_for": <user>, "key": "sha256:…"}
-- `key` is the first 16 hex digits of the SHA-256 of the presented token or key: which key acted,
-- without revealing it. Claims without actor facts (a session that did not come through the
-- functions) give the role and user they name with "via": "claims"; no claims at all (the owner's
-- own maintenance) give {"role": "database", "db_user": <login role>}. It is the column's default,
-- so every trigger and function that inserts events records it without naming it (issue 16).
--
-- No foreign key to auth.users: the history of a deleted user stays until retention removes it
-- (a cascade would also collide with the append-only rule).

create table public.event_logs (
  id          bigint      generated always as identity,
  event_type  text        not null,
  entity_type text        not null,
  entity_id   uuid,
  user_id     uuid        not null,
  payload     jsonb       not null default '{}',
  created_at  timestamptz not null default now(),
  -- Who acted. An expression of built-in functions rather than a function of ours: it is evaluated
  -- once per event row, and a SQL function with its own search_path (which every function here
  -- must have) is never inlined, so it would be a function call per row.
  actor       jsonb       not null default (
    case
      when nullif(current_setting('request.jwt.claims', true), '') is null
        then jsonb_build_object('role', 'database', 'db_user', session_user)
      when jsonb_typeof(current_setting('request.jwt.claims', true)::jsonb -> 'actor') = 'object'
        then current_setting('request.jwt.claims', true)::jsonb -> 'actor'
      else jsonb_strip_nulls(jsonb_build_object(
        'role', current_setting('request.jwt.claims', true)::jsonb ->> 'role',
        'sub', current_setting('request.jwt.claims', true)::jsonb ->> 'sub',
        'via', 'claims'))
    end),

  constraint event_logs_pkey primary key (id),
  constraint event_logs_event_type_valid check (event_type in (
    'calculation_started',    -- a calculation became running
    'calculation_completed',  -- a calculation became completed
    'calculation_failed',     -- a calculation became failed
    'calculation_deleted',    -- a calculation was deleted
    'batch_created',          -- a batch was created
    'batch_started',          -- a batch went from pending to running (first claim)
    'batch_completed',        -- a batch finished with no failed item
    'batch_failed',           -- a batch finished with at least one failed item
    'batch_cancelled',        -- a batch was cancelled
    'batch_deleted',          -- a batch was deleted
    'batch_item_created',     -- an item was added to a batch
    'batch_item_updated',     -- an item's status, molecule or calculation changed
    'batch_item_deleted',     -- an item was deleted
    'molecule_created',       -- a molecule was inserted
    'molecule_deleted',       -- a molecule was deleted
    'dataset_created',        -- a dataset was created (migration datasets)
    'release_created',        -- a release of a dataset was sealed
    'release_withdrawn',      -- a release was withdrawn: a member was deleted or changed with force
    'error',                  -- a failure the functions could not answer (public.log_error_event)
    'performance_metric'      -- timings reported by a function (public.log_performance_metric)
  )),
  constraint event_logs_entity_type_valid
    check (entity_type in ('molecule', 'calculation', 'batch_job', 'batch_item', 'function', 'dataset', 'release')),
  constraint event_logs_payload_object check (jsonb_typeof(payload) = 'object'),
  constraint event_logs_actor_object check (jsonb_typeof(actor) = 'object')
);

comment on table public.event_logs is
  'Append-only history, written by triggers. Never updated; deleted only by public.purge_event_logs().';
comment on column public.event_logs.entity_id is 'Id of the row in the table named by entity_type; null for entity_type function.';
comment on column public.event_logs.actor is
  'Who acted, from request.jwt.claims -> ''actor'' as the functions set it: {"role", "sub" (a user''s own token), '
  '"acting_for" (the service-role key acting for a user), "key" (sha256: and 16 hex digits of the presented token)}. '
  'Claims without actor facts: their role and sub, with "via": "claims". No claims: {"role": "database", "db_user"}. '
  '{} for events written before actors were recorded.';

create index event_logs_created_at_brin on public.event_logs using brin (created_at);
create index event_logs_user_id_created_at_idx on public.event_logs (user_id, created_at);

alter table public.event_logs enable row level security;
revoke all on table public.event_logs from public, anon, authenticated, service_role;
-- Only the owner's triggers and functions insert, so no API role needs the identity sequence.
revoke all on sequence public.event_logs_id_seq from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Append-only: refuse update, delete and truncate, unless the retention function is deleting.
-- ---------------------------------------------------------------------------------------------
create function public.event_logs_refuse_changes()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_setting('quantum_forge.purging_event_logs', true) = 'on' then
    return null;
  end if;
  raise exception 'event_logs is append-only: % is not allowed', tg_op
    using errcode = 'insufficient_privilege',
          hint = 'Old events are removed only by public.purge_event_logs(older_than).';
end;
$$;

comment on function public.event_logs_refuse_changes() is
  'BEFORE UPDATE/DELETE/TRUNCATE statement trigger on event_logs: refuses the change unless purge_event_logs() is running.';
revoke execute on function public.event_logs_refuse_changes() from public, anon, authenticated, service_role;

create trigger event_logs_append_only
  before update or delete or truncate on public.event_logs
  for each statement
  execute function public.event_logs_refuse_changes();

-- ---------------------------------------------------------------------------------------------
-- Retention, for the database owner only.
-- ---------------------------------------------------------------------------------------------
create function public.purge_event_logs(older_than interval)
  returns bigint
  language plpgsql security definer set search_path = ''
as $$
declare
  purged bigint;
begin
  if older_than is null or older_than < interval '0' then
    raise exception 'purge_event_logs: older_than must be a non-negative interval, got %', older_than
      using errcode = 'invalid_parameter_value';
  end if;
  -- Transaction-local: the flag dies with this transaction (or subtransaction) whatever happens.
  perform set_config('quantum_forge.purging_event_logs', 'on', true);
  delete from public.event_logs where created_at < now() - older_than;
  get diagnostics purged = row_count;
  perform set_config('quantum_forge.purging_event_logs', 'off', true);
  return purged;
end;
$$;

comment on function public.purge_event_logs(interval) is
  'Retention: deletes events older than the interval and returns how many. Owner only; not granted to API roles.';
revoke execute on function public.purge_event_logs(interval) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- The insert paths for API callers: a performance metric, and an error the functions' error
-- handler reports (supabase/functions/_shared/error-events.ts). Both append one `function` event
-- for the calling user through public.log_caller_event, which checks the caller and the payload.
-- ---------------------------------------------------------------------------------------------
create function public.log_caller_event(p_function text, p_event_type text, p_payload jsonb, p_max_bytes integer)
  returns bigint
  language plpgsql set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  event_id bigint;
begin
  if caller is null then
    raise exception '%: no user in the request claims', p_function
      using errcode = 'insufficient_privilege';
  end if;
  if p_payload is null or jsonb_typeof(p_payload) <> 'object' then
    raise exception '%: payload must be a JSON object', p_function
      using errcode = 'invalid_parameter_value';
  end if;
  if octet_length(p_payload::text) > p_max_bytes then
    raise exception '%: payload is larger than % kB', p_function, p_max_bytes / 1024
      using errcode = 'program_limit_exceeded';
  end if;
  insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
  values (p_event_type, 'function', null, caller, p_payload)
  returning id into event_id;
  return event_id;
end;
$$;

comment on function public.log_caller_event(text, text, jsonb, integer) is
  'Appends a function event of the calling user (auth.uid()) after checking the payload (a JSON object of at most '
  'p_max_bytes); errors name p_function. For log_performance_metric and log_error_event only.';
revoke execute on function public.log_caller_event(text, text, jsonb, integer)
  from public, anon, authenticated, service_role;

create function public.log_performance_metric(payload jsonb)
  returns bigint
  language sql security definer set search_path = ''
as $$
  select public.log_caller_event('log_performance_metric', 'performance_metric', payload, 16384);
$$;

comment on function public.log_performance_metric(jsonb) is
  'Appends a performance_metric event (at most 16 kB of JSON) for the calling user (auth.uid()). Returns its id.';
revoke execute on function public.log_performance_metric(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.log_performance_metric(jsonb) to qf_api, service_role;

create function public.log_error_event(payload jsonb)
  returns bigint
  language sql security definer set search_path = ''
as $$
  select public.log_caller_event('log_error_event', 'error', payload, 4096);
$$;

comment on function public.log_error_event(jsonb) is
  'Appends an error event (at most 4 kB of JSON) for the calling user (auth.uid()); for the functions'' error '
  'handler only (qf_api). Returns its id.';
revoke execute on function public.log_error_event(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.log_error_event(jsonb) to qf_api;
