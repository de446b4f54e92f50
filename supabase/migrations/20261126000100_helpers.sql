-- Helpers shared by the tables of Quantum Forge Data.
--
-- public.set_updated_at(): the BEFORE UPDATE row trigger that keeps `updated_at` on mutable
-- tables. Tables attach it with `when (old.* is distinct from new.*)`, so an update that changes
-- nothing leaves the row (and its updated_at) as it was.
--
-- public.create_statement_triggers(): attaches one AFTER ... FOR EACH STATEMENT trigger function
-- to a table for each of the events given, with the transition tables that event has (new_rows,
-- old_rows). PostgreSQL allows transition tables only on a single-event trigger, so a function
-- that serves insert, update and delete (branching on TG_OP) needs three triggers; this writes
-- them, named `<function>_after_<event>`, so that every counting and logging migration attaches
-- its function in one line instead of repeating the clauses. p_args are the trigger's arguments
-- (TG_ARGV), for one function that serves several tables. It also revokes EXECUTE on the function
-- from every role but the owner, the one rule for all of them: a trigger function is not for
-- calling. It runs only while migrating (as the owner): the triggers it creates are plain
-- triggers, with no dynamic SQL when they fire.
--
-- public.analyze_while_young(): an AFTER INSERT statement trigger that keeps a young table's
-- statistics current (below).
--
-- Conventions used by every later migration:
--   * every table has `user_id uuid not null` (the owner) and `created_at`; mutable tables also
--     have `updated_at`;
--   * units are part of column names (_eh hartree, _ev electronvolt, _debye, _au atomic units,
--     _ang ångström, _e elementary charge, _eh_bohr hartree per bohr, _s seconds);
--   * every constraint and index is named `<table>_<columns>_<what>`;
--   * functions set `search_path = ''` and qualify every name; `security definer` only where a
--     trigger must write what the caller may not (event_logs, counters);
--   * every CREATE FUNCTION states its own attributes (language, volatility, strict, parallel,
--     security, search_path; in a plpgsql body, #variable_conflict): PostgreSQL has no way to
--     share them. They go on one line after `returns`, in that order; a planner setting or cost
--     (`set plan_cache_mode`, `set enable_nestloop`, `cost`) gets a line of its own, under a
--     comment that says why. What functions share beyond that lives in a helper
--     (create_statement_triggers here, batch_caller, log_caller_event, add_histogram_cells);
--   * API roles get nothing by default: each migration revokes, and the RLS migration grants
--     exactly what each role needs to qf_api (migration api_role) and service_role; anon and
--     authenticated get nothing.

create function public.set_updated_at()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function public.set_updated_at() is
  'BEFORE UPDATE row trigger: stamps updated_at with the transaction time.';

-- Trigger functions are not for calling; PUBLIC gets EXECUTE on new functions by default.
revoke execute on function public.set_updated_at() from public, anon, authenticated, service_role;

create function public.create_statement_triggers(
  p_table    regclass,
  p_function regproc,
  p_events   text[],
  p_name     text default null,
  p_args     text[] default '{}'
)
  returns void
  language plpgsql set search_path = ''
as $$
declare
  v_event text;
  v_referencing text;
begin
  foreach v_event in array p_events loop
    v_referencing := case v_event
                       when 'insert' then 'new table as new_rows'
                       when 'update' then 'old table as old_rows new table as new_rows'
                       when 'delete' then 'old table as old_rows'
                     end;
    if v_referencing is null then
      raise exception 'create_statement_triggers: % is not insert, update or delete', v_event
        using errcode = 'invalid_parameter_value';
    end if;
    execute format(
      'create trigger %I after %s on %s referencing %s for each statement execute function %s(%s)',
      coalesce(p_name, (select p.proname from pg_catalog.pg_proc p where p.oid = p_function)) || '_after_' || v_event,
      v_event, p_table, v_referencing, p_function,
      (select pg_catalog.string_agg(pg_catalog.quote_literal(a), ', ') from pg_catalog.unnest(p_args) as a));
  end loop;
  execute format('revoke execute on function %s from public, anon, authenticated, service_role',
                 p_function::oid::regprocedure);
end;
$$;

comment on function public.create_statement_triggers(regclass, regproc, text[], text, text[]) is
  'Migrations only: attaches an AFTER FOR EACH STATEMENT trigger of p_function (with arguments p_args) to p_table per '
  'event (insert, update, delete), with its transition tables (new_rows, old_rows), named <p_name or the function''s '
  'name>_after_<event>; revokes EXECUTE on p_function from every API role and PUBLIC.';
revoke execute on function public.create_statement_triggers(regclass, regproc, text[], text, text[])
  from public, anon, authenticated, service_role;

-- A session plans its statements, and the foreign-key checks PostgreSQL runs for each row it
-- inserts, once, and keeps those plans until the table's statistics change. autovacuum refreshes
-- statistics at most once a minute. In a fresh database the first upload's sessions planned the
-- checks of atomic_properties against a near-empty calculations table, where reading all of a
-- user's rows through any index that starts with user_id costs as little as the unique key, and
-- some kept such a plan while the table grew: every atom stored then read every calculation of the
-- user (bench:ingest, 20,000 calculations by 4 clients: 504 statement timeouts within a minute).
-- So while a table is young (under 10,000 pages, 80 MB) this analyzes it each time it has doubled
-- since its last analysis: about ten times in its life, each a sample of a small table, and each
-- making every session plan afresh. One session at a time: the others skip rather than wait.
-- Security definer because ANALYZE needs the table's owner; it takes no argument from the caller.
create function public.analyze_while_young()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  v_analyzed_pages integer;
  v_pages bigint;
begin
  select c.relpages into v_analyzed_pages from pg_catalog.pg_class c where c.oid = tg_relid;
  v_pages := pg_catalog.pg_relation_size(tg_relid) / pg_catalog.current_setting('block_size')::integer;
  if v_pages < 10000 and v_pages >= 2 * greatest(v_analyzed_pages, 8)
     and pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('analyze_while_young:' || tg_relid::text, 0)) then
    execute pg_catalog.format('analyze %s', tg_relid::regclass);
  end if;
  return null;
end;
$$;

comment on function public.analyze_while_young() is
  'AFTER INSERT statement trigger: ANALYZE the table when it has doubled in pages since its last analysis, while '
  'under 10,000 pages, so that plans made on it while it was nearly empty are made again.';
revoke execute on function public.analyze_while_young() from public, anon, authenticated, service_role;
