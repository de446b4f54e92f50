-- The batch queue's multi-row work is one SQL function per step, so that each step is atomic and
-- one round trip, in one migration per step of an item's life: batch_create, batch_claim,
-- batch_heartbeat, batch_complete, batch_fail, batch_cancel_retry. The `batches` edge function
-- calls them. This migration holds what they share: the rules below, and three helpers.
--
--   public.batch_caller(all_users)   the user whose items a step may touch, or null for all users.
--   public.batch_item_close_attempt  attempt_history with its open attempt closed.
--   public.batch_item_held           "the runner holds the item", the rule complete and fail use.
--
-- Who runs them: every function is `security invoker`, so row-level security and the table
-- grants apply exactly as to the caller's own statements. Each step therefore opens with the same
-- declaration (plpgsql, security invoker, search_path, #variable_conflict, v_user from
-- public.batch_caller): the attributes PostgreSQL makes every function state; the rule behind
-- them, who the caller is, is public.batch_caller alone.
--   * A user (or the service-role key acting for one) runs as `qf_api`: RLS limits every
--     statement to that user's rows, and each function also filters on auth.uid() explicitly.
--   * The service-role key may work across users only by passing p_all_users => true. Then the
--     transaction runs as `service_role`, which bypasses RLS; public.batch_caller() refuses
--     p_all_users for any role that does not bypass RLS, so a user can never widen its reach.
--
-- Leases: a claimed item belongs to `claimed_by` until `lease_expires_at`. No cron is needed: the
-- claim query treats an expired claimed item as pending, closes its open attempt as
-- `lease_expired` in attempt_history, and claims it again (or fails it, when the attempt was its
-- last). Until someone claims it again, its runner may still heartbeat, complete or fail it.
--
-- attempt_history holds one object per attempt:
--   {"attempt": n, "runner": "...", "started_at": ..., "ended_at": ..., "outcome": "...", "error": ...}
-- appended at claim time with outcome `claimed` and closed by the step that ends the attempt.
--
-- Lock order, as in the counter triggers (migration batch_counters): items first, then their
-- batch row (taken by the counter trigger when an item's status changes). Cancel and retry lock
-- the items they will touch before the batch row for the same reason.

create function public.batch_caller(p_all_users boolean)
  returns uuid
  language plpgsql stable security invoker set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
begin
  if p_all_users then
    if not coalesce((select r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user), false) then
      raise exception 'all_users is only for the service_role key; % may work only on its own rows', current_user
        using errcode = 'insufficient_privilege';
    end if;
    return null;
  end if;
  if v_user is null then
    raise exception 'no user: a user token works on its own rows, the service-role key must act for a user or pass all_users'
      using errcode = 'invalid_authorization_specification';
  end if;
  return v_user;
end;
$$;

comment on function public.batch_caller(boolean) is
  'The user whose items a batch function may touch (auth.uid()), or null for all users, which only a role that '
  'bypasses RLS (service_role) may ask for.';

-- Bounds on an item's attempts, so that neither a retried batch nor its rows grow without limit:
-- an item is claimed at most batch_item_attempt_limit() times in all (across retries: a
-- retry_batch starts a new round of max_attempts, never past this), and attempt_history keeps the
-- last batch_item_history_length() attempts. The limit is the database setting
-- qf.max_item_attempts (`alter database … set qf.max_item_attempts = 50`), 20 when unset.
create function public.batch_item_attempt_limit()
  returns integer
  language sql stable parallel safe set search_path = ''
as $$
  select coalesce(nullif(current_setting('qf.max_item_attempts', true), '')::integer, 20)
$$;

comment on function public.batch_item_attempt_limit() is
  'How many times an item may be claimed in all, across retries: qf.max_item_attempts, 20 when unset.';

create function public.batch_item_history_length()
  returns integer
  language sql immutable parallel safe set search_path = ''
as $$
  select 10
$$;

comment on function public.batch_item_history_length() is
  'How many attempts attempt_history keeps (the last ones); batch_items.total_attempts counts them all.';

-- The history with p_entry appended, trimmed to its last batch_item_history_length() entries.
create function public.batch_item_append_attempt(p_history jsonb, p_entry jsonb)
  returns jsonb
  language sql immutable parallel safe set search_path = ''
as $$
  select coalesce(jsonb_agg(h.entry order by h.n), '[]'::jsonb)
    from jsonb_array_elements(p_history || jsonb_build_array(p_entry)) with ordinality as h (entry, n)
   where h.n > jsonb_array_length(p_history) + 1 - public.batch_item_history_length()
$$;

comment on function public.batch_item_append_attempt(jsonb, jsonb) is
  'attempt_history with one attempt appended, keeping the last batch_item_history_length().';

create function public.batch_item_close_attempt(
  p_history  jsonb,
  p_runner   text,
  p_outcome  text,
  p_error    text,
  p_ended_at timestamptz
)
  returns jsonb
  language sql immutable set search_path = ''
as $$
  -- Closes the open attempt (or one closed as `cancelled` by this runner, which a late result
  -- supersedes); without one, records a closed attempt of its own.
  select case
    when jsonb_array_length(p_history) > 0
         and ((p_history -> -1 ->> 'ended_at') is null
              or (p_history -> -1 ->> 'outcome' = 'cancelled' and p_history -> -1 ->> 'runner' = p_runner))
      then jsonb_set(p_history, '{-1}', (p_history -> -1) || jsonb_build_object(
             'ended_at', p_ended_at, 'outcome', p_outcome, 'error', p_error))
    else public.batch_item_append_attempt(p_history, jsonb_build_object(
           'attempt', null, 'runner', p_runner, 'started_at', null, 'ended_at', p_ended_at,
           'outcome', p_outcome, 'error', p_error))
  end
$$;

comment on function public.batch_item_close_attempt(jsonb, text, text, text, timestamptz) is
  'attempt_history with its open attempt closed with the given outcome and error.';

-- A runner holds an item it claimed while the item is claimed, even past its lease until someone
-- claims it again; and one its batch's cancellation caught mid-run, until it reports (so the
-- finished work is kept). The one statement of the rule: complete and fail ask it.
create function public.batch_item_held(p_status text, p_claimed_by text, p_calculation_id uuid, p_runner_id text)
  returns boolean
  language sql immutable parallel safe set search_path = ''
as $$
  select p_claimed_by is not distinct from p_runner_id and p_runner_id is not null
     and (p_status = 'claimed' or (p_status = 'cancelled' and p_calculation_id is null));
$$;

comment on function public.batch_item_held(text, text, uuid, text) is
  'True when p_runner_id holds an item (status, claimed_by, calculation_id): claimed by it, or cancelled mid-run '
  'and not yet answered. Complete and fail accept only held items.';

-- The same list twice: SQL grants and revokes in separate statements, and both name the functions.
revoke execute on function
  public.batch_caller(boolean),
  public.batch_item_attempt_limit(),
  public.batch_item_history_length(),
  public.batch_item_append_attempt(jsonb, jsonb),
  public.batch_item_close_attempt(jsonb, text, text, text, timestamptz),
  public.batch_item_held(text, text, uuid, text)
  from public, anon, authenticated;
grant execute on function
  public.batch_caller(boolean),
  public.batch_item_attempt_limit(),
  public.batch_item_history_length(),
  public.batch_item_append_attempt(jsonb, jsonb),
  public.batch_item_close_attempt(jsonb, text, text, text, timestamptz),
  public.batch_item_held(text, text, uuid, text)
  to qf_api, service_role;
