-- Helpers shared by the tables of Quantum Forge Data.
--
-- public.set_updated_at(): the BEFORE UPDATE row trigger that keeps `updated_at` on mutable
-- tables. Tables attach it with `when (old.* is distinct from new.*)`, so an update that changes
-- nothing leaves the row (and its updated_at) as it was.
--
-- Conventions used by every later migration:
--   * every table has `user_id uuid not null` (the owner) and `created_at`; mutable tables also
--     have `updated_at`;
--   * units are part of column names (_eh hartree, _ev electronvolt, _debye, _au atomic units,
--     _ang ångström, _e elementary charge, _eh_bohr hartree per bohr, _s seconds);
--   * every constraint and index is named `<table>_<columns>_<what>`;
--   * functions set `search_path = ''` and qualify every name; `security definer` only where a
--     trigger must write what the caller may not (event_logs, counters);
--   * API roles get nothing by default: each migration revokes, and the RLS migration grants
--     exactly what each role needs.

create function public.set_updated_at()
  returns trigger
  language plpgsql
  set search_path = ''
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
