-- What deleting a molecule or a calculation does to batch items: a finished item is the record of
-- work done, and stays in its batch as it finished. Counters and batch status therefore do not
-- move when results are deleted; they still equal count(*) of the items per status.
--
-- Why (issue 16): batch_items.molecule_id cascaded, so deleting a molecule deleted its finished
-- items too and took them out of the counters: a `failed` batch whose failed item's molecule was
-- deleted turned `completed`. Deleting a calculation left a `completed` item with no result and
-- nothing saying why.
--
-- Now:
--   molecule deleted     its finished items (completed, failed, cancelled) stay, with molecule_id
--                        null; their status, attempts and history are unchanged, so the batch's
--                        counters and status are too. A live item (pending, claimed) cannot run
--                        without its molecule: it becomes cancelled in the same statement (trigger
--                        batch_items_molecule_deleted; its open attempt is closed as cancelled),
--                        which the counters then count as any cancel. The DELETE route still
--                        answers 409 for live items unless force=true, so this happens through the
--                        API only when asked for; it is what makes deleting a user's account work.
--   calculation deleted  the item that produced it stays completed, with calculation_id null (the
--                        foreign key already sets it so).
--   the trail            both unlinkings write batch_item_updated events with previous_molecule_id
--                        or previous_calculation_id and the actor (migration event_actor).
--   retry_batch          skips failed items whose molecule is gone: they cannot run again.
--
-- A check constraint states the rule: an item without a molecule is finished.

alter table public.batch_items alter column molecule_id drop not null;

alter table public.batch_items drop constraint batch_items_molecule_fkey;
alter table public.batch_items
  add constraint batch_items_molecule_fkey foreign key (user_id, molecule_id)
    references public.molecules (user_id, id) on delete set null (molecule_id);

comment on column public.batch_items.molecule_id is
  'The molecule to compute. Null once the molecule was deleted, which only a finished (completed, failed or '
  'cancelled) item survives.';
comment on column public.batch_items.calculation_id is
  'The calculation the item produced. Null on a completed item once that calculation was deleted.';

-- ---------------------------------------------------------------------------------------------
-- A live item whose molecule goes is cancelled
-- ---------------------------------------------------------------------------------------------
create function public.batch_items_cancel_without_molecule()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  -- Attached with `when (new.molecule_id is null and old.molecule_id is not null)`.
  if new.status in ('pending', 'claimed') then
    if new.status = 'claimed' then
      new.attempt_history := public.batch_item_close_attempt(
        new.attempt_history, new.claimed_by, 'cancelled', 'molecule deleted', now());
    end if;
    new.status := 'cancelled';
    new.lease_expires_at := null;
  end if;
  return new;
end;
$$;

comment on function public.batch_items_cancel_without_molecule() is
  'BEFORE UPDATE OF molecule_id row trigger on batch_items: a pending or claimed item whose molecule was deleted '
  'becomes cancelled (an open attempt is closed as cancelled); finished items keep their status.';
revoke execute on function public.batch_items_cancel_without_molecule() from public, anon, authenticated, service_role;

create trigger batch_items_molecule_deleted
  before update of molecule_id on public.batch_items
  for each row when (new.molecule_id is null and old.molecule_id is not null)
  execute function public.batch_items_cancel_without_molecule();

alter table public.batch_items
  add constraint batch_items_live_has_molecule
    check (molecule_id is not null or status in ('completed', 'failed', 'cancelled'));
