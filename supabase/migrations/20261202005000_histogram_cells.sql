-- histogram_cells: the /query/stats histograms (energy per atom, HOMO-LUMO gap) kept by the
-- database as data arrives, so a dashboard load reads a few thousand small rows instead of every
-- calculation of the user (public.calculation_histograms in query_functions reads them).
--
-- Measured before: at 10^6 calculations of one user, /query/stats took p50 436 ms, p95 524 ms
-- (bench/RESULTS.md, 2026-11-26), nearly all of it the pass over every calculation that the
-- histograms made.
--
-- What is kept: per user, quantity and cell of a fixed grid, how many calculations have a value
-- in that cell. A cell is floor(value / width): 1e-4 Eh for energy per atom (2.7 meV), 0.01 eV
-- for the gap (public.histogram_cell_width). Histogram bins are whole numbers of cells, so every
-- count is exact, and the figures a recount from the tables gives are the figures kept
-- (test/db/histogram-cells.test.ts). Edges fall on the grid; the smallest and largest value are
-- known to the cell.
--
--   public.histogram_cells        (user_id, quantity, cell, slot) -> n. Slots as in
--                                 user_stats_slots (the session's pid modulo 16), for the same
--                                 reason: twenty runners completing one user's items would
--                                 otherwise queue on the same few cells until each commits.
--   public.histogram_blocks       (user_id, quantity, block, slot) -> n: the same counts summed
--                                 over blocks of 32 consecutive cells (public.histogram_block).
--                                 A histogram read sums whole blocks and only the cells of the
--                                 blocks cut by its edges, so it reads O(bins × 32 + cells / 32)
--                                 rows instead of every occupied cell: at 10^6 calculations
--                                 18,154 energy cells made the read cost 119 ms under load
--                                 (bench/RESULTS.md, 2026-12-02); 32 is about the square root of
--                                 cells per edge there, which balances the two terms.
--   public.histogram_cells_of()   the one definition of a value's cell, for the writes below.
--   public.add_histogram_cells()  the one place a change becomes counts: signed rows in, one
--                                 upsert of blocks then one of cells per statement out, each
--                                 written in key order (so two sessions sharing a slot take
--                                 their row locks in the same order).
--   triggers                      calculations insert/update/delete (statement level, transition
--                                 tables); molecules: a change of n_atoms moves energy per atom,
--                                 and a deleted molecule takes its calculations out before the
--                                 cascade (below).
--   public.refresh_histogram_cells()  rebuilds every user's cells from the tables (owner only):
--                                 the backfill at the end of this file, and a repair after a
--                                 TRUNCATE, which fires no row-counting trigger.
--
-- A calculation counts through its molecule (energy per atom needs n_atoms). When a molecule is
-- deleted, the cascade deletes its calculations after the molecule row is gone, so their
-- statement trigger can no longer find n_atoms: a BEFORE DELETE row trigger on molecules takes
-- the molecule's calculations out first, and the calculations trigger skips rows whose molecule
-- is gone. Molecules are deleted rarely and one at a time; their calculations are one index
-- range each.
--
-- Filtered histograms (a selection of calculations) are not kept: they would be one pass over
-- the selection, as the old function made over everything (docs/scaling.md).

create table public.histogram_cells (
  user_id  uuid     not null,
  quantity text     not null,
  cell     bigint   not null,
  slot     smallint not null,
  -- integer, not bigint: sum() over integers adds in int8, over bigints in numeric, which made the
  -- read of 18,000 cells at 10^6 calculations take 27 ms instead of a few.
  n        integer  not null,

  constraint histogram_cells_pkey primary key (user_id, quantity, cell, slot),
  constraint histogram_cells_quantity_valid check (quantity in ('energy_per_atom_eh', 'homo_lumo_gap_ev')),
  constraint histogram_cells_slot_range check (slot between 0 and 15)
);

comment on table public.histogram_cells is
  'Per user, quantity and grid cell (floor(value / public.histogram_cell_width(quantity))): how many calculations '
  'have a value there, in up to 16 slots; kept by triggers. A cell''s count is the sum over its slots.';
comment on column public.histogram_cells.n is
  'Signed: a slot may go negative (counted in one session, deleted in another); only the sum over slots means anything.';

alter table public.histogram_cells enable row level security;
revoke all on table public.histogram_cells from public, anon, authenticated, service_role;
grant select on table public.histogram_cells to qf_api, service_role;

create policy histogram_cells_select_own on public.histogram_cells
  for select to qf_api
  using (user_id = (select auth.uid()));

-- The shape of histogram_cells, per block: a table of its own, so that each read is a range of
-- its own primary key and a block row never sits among the cells a read of cells walks.
create table public.histogram_blocks (
  user_id  uuid     not null,
  quantity text     not null,
  block    bigint   not null,
  slot     smallint not null,
  n        integer  not null,

  constraint histogram_blocks_pkey primary key (user_id, quantity, block, slot),
  constraint histogram_blocks_quantity_valid check (quantity in ('energy_per_atom_eh', 'homo_lumo_gap_ev')),
  constraint histogram_blocks_slot_range check (slot between 0 and 15)
);

comment on table public.histogram_blocks is
  'histogram_cells summed over blocks of 32 cells (public.histogram_block(cell)), per user, quantity and slot; kept '
  'by the same triggers in the same statement. Lets a histogram read whole blocks instead of every cell.';
comment on column public.histogram_blocks.n is
  'Signed, as histogram_cells.n: only the sum over slots means anything.';

alter table public.histogram_blocks enable row level security;
revoke all on table public.histogram_blocks from public, anon, authenticated, service_role;
grant select on table public.histogram_blocks to qf_api, service_role;

create policy histogram_blocks_select_own on public.histogram_blocks
  for select to qf_api
  using (user_id = (select auth.uid()));

create function public.histogram_block(p_cell bigint)
  returns bigint
  language sql immutable strict parallel safe set search_path = ''
as $$
  -- Floor division (cells are negative for energies): cells 32b .. 32b + 31 make block b.
  select p_cell >> 5
$$;

comment on function public.histogram_block(bigint) is
  'The block of a histogram cell: floor(cell / 32), so cells 32b .. 32b + 31 make block b.';
revoke execute on function public.histogram_block(bigint) from public, anon, authenticated, service_role;
grant execute on function public.histogram_block(bigint) to qf_api, service_role;

create function public.histogram_cell_width(p_quantity text)
  returns double precision
  language sql immutable parallel safe set search_path = ''
as $$
  select case p_quantity when 'energy_per_atom_eh' then 1e-4::float8 when 'homo_lumo_gap_ev' then 0.01::float8 end
$$;

comment on function public.histogram_cell_width(text) is
  'The width of one histogram cell: 1e-4 Eh for energy_per_atom_eh, 0.01 eV for homo_lumo_gap_ev.';
revoke execute on function public.histogram_cell_width(text) from public, anon, authenticated, service_role;
grant execute on function public.histogram_cell_width(text) to qf_api, service_role;

-- ---------------------------------------------------------------------------------------------
-- The one place a change becomes cell counts
-- ---------------------------------------------------------------------------------------------
create function public.histogram_cells_of(
  p_user_ids uuid[], p_n_atoms integer[], p_energies_eh float8[], p_gaps_ev float8[], p_signs integer[])
  returns table (user_id uuid, quantity text, cell bigint, n integer)
  language sql stable set search_path = ''
as $$
  select r.user_id, q.quantity, q.cell, sum(r.sign)::integer
    from unnest(p_user_ids, p_n_atoms, p_energies_eh, p_gaps_ev, p_signs)
           as r (user_id, n_atoms, energy_eh, gap_ev, sign)
   cross join lateral (
     values ('energy_per_atom_eh',
             floor(r.energy_eh / r.n_atoms / public.histogram_cell_width('energy_per_atom_eh'))::bigint),
            ('homo_lumo_gap_ev',
             floor(r.gap_ev / public.histogram_cell_width('homo_lumo_gap_ev'))::bigint)
   ) as q (quantity, cell)
   where q.cell is not null
   group by r.user_id, q.quantity, q.cell
  having sum(r.sign) <> 0
$$;

comment on function public.histogram_cells_of(uuid[], integer[], float8[], float8[], integer[]) is
  'Signed calculations (user, n_atoms of its molecule, energy, gap, +1/-1) as net counts per histogram cell: the one '
  'definition of a value''s cell. For add_histogram_cells.';
revoke execute on function public.histogram_cells_of(uuid[], integer[], float8[], float8[], integer[])
  from public, anon, authenticated, service_role;

create function public.add_histogram_cells(
  p_user_ids uuid[], p_n_atoms integer[], p_energies_eh float8[], p_gaps_ev float8[], p_signs integer[])
  returns void
  language sql set search_path = ''
as $$
  -- Blocks first, then cells: every writer locks rows in that order, and in key order within each.
  insert into public.histogram_blocks as b (user_id, quantity, block, slot, n)
  select c.user_id, c.quantity, public.histogram_block(c.cell), (select public.user_stats_slot()), sum(c.n)
    from public.histogram_cells_of(p_user_ids, p_n_atoms, p_energies_eh, p_gaps_ev, p_signs) c
   group by 1, 2, 3
  having sum(c.n) <> 0
   order by 1, 2, 3
  on conflict (user_id, quantity, block, slot) do update set n = b.n + excluded.n;

  insert into public.histogram_cells as h (user_id, quantity, cell, slot, n)
  select c.user_id, c.quantity, c.cell, (select public.user_stats_slot()), c.n
    from public.histogram_cells_of(p_user_ids, p_n_atoms, p_energies_eh, p_gaps_ev, p_signs) c
   order by c.user_id, c.quantity, c.cell
  on conflict (user_id, quantity, cell, slot) do update set n = h.n + excluded.n;
$$;

comment on function public.add_histogram_cells(uuid[], integer[], float8[], float8[], integer[]) is
  'Adds signed calculations (user, n_atoms of its molecule, energy, gap, +1/-1) to their histogram blocks and cells in '
  'the session''s slot. Called by the counting triggers and refresh_histogram_cells only.';
revoke execute on function public.add_histogram_cells(uuid[], integer[], float8[], float8[], integer[])
  from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- calculations -> histogram_cells
-- ---------------------------------------------------------------------------------------------
create function public.calculations_count_histograms()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  -- The molecule's n_atoms by the composite key; a row whose molecule is gone (a cascade from a
  -- molecule delete) was taken out by molecules_uncount_histograms already.
  if tg_op = 'INSERT' then
    perform public.add_histogram_cells(array_agg(c.user_id), array_agg(m.n_atoms),
                                       array_agg(c.total_energy_eh), array_agg(c.homo_lumo_gap_ev), array_agg(1))
       from new_rows c
       join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
      where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null
     having count(*) > 0;
  elsif tg_op = 'DELETE' then
    perform public.add_histogram_cells(array_agg(c.user_id), array_agg(m.n_atoms),
                                       array_agg(c.total_energy_eh), array_agg(c.homo_lumo_gap_ev), array_agg(-1))
       from old_rows c
       join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
      where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null
     having count(*) > 0;
  else
    -- Only rows whose values moved: a status or tag change touches no cell.
    perform public.add_histogram_cells(array_agg(d.user_id), array_agg(m.n_atoms),
                                       array_agg(d.total_energy_eh), array_agg(d.homo_lumo_gap_ev), array_agg(d.sign))
       from (select o.user_id, o.molecule_id, o.total_energy_eh, o.homo_lumo_gap_ev, -1 as sign
               from old_rows o join new_rows n on n.id = o.id
              where (o.user_id, o.molecule_id, o.total_energy_eh, o.homo_lumo_gap_ev)
                    is distinct from (n.user_id, n.molecule_id, n.total_energy_eh, n.homo_lumo_gap_ev)
             union all
             select n.user_id, n.molecule_id, n.total_energy_eh, n.homo_lumo_gap_ev, 1
               from old_rows o join new_rows n on n.id = o.id
              where (o.user_id, o.molecule_id, o.total_energy_eh, o.homo_lumo_gap_ev)
                    is distinct from (n.user_id, n.molecule_id, n.total_energy_eh, n.homo_lumo_gap_ev)) d
       join public.molecules m on m.id = d.molecule_id and m.user_id = d.user_id
      where d.total_energy_eh is not null or d.homo_lumo_gap_ev is not null
     having count(*) > 0;
  end if;
  return null;
end;
$$;

comment on function public.calculations_count_histograms() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on calculations: adds the rows'' energy per atom and gap to '
  'histogram_cells (+1 as they are now, -1 as they were).';

select public.create_statement_triggers('public.calculations', 'public.calculations_count_histograms', '{insert, update, delete}');

-- ---------------------------------------------------------------------------------------------
-- molecules -> histogram_cells: n_atoms changed, or the molecule (and so its calculations) deleted
-- ---------------------------------------------------------------------------------------------
create function public.molecules_recount_histograms()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  -- Each calculation of a molecule whose n_atoms changed: out at the old count, in at the new.
  perform public.add_histogram_cells(array_agg(c.user_id), array_agg(d.n_atoms),
                                     array_agg(c.total_energy_eh), array_agg(c.homo_lumo_gap_ev), array_agg(d.sign))
     from (select o.user_id, o.id, o.n_atoms, -1 as sign
             from old_rows o join new_rows n on n.id = o.id where n.n_atoms <> o.n_atoms
           union all
           select n.user_id, n.id, n.n_atoms, 1
             from old_rows o join new_rows n on n.id = o.id where n.n_atoms <> o.n_atoms) d
     join public.calculations c on c.user_id = d.user_id and c.molecule_id = d.id
    where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null
   having count(*) > 0;
  return null;
end;
$$;

comment on function public.molecules_recount_histograms() is
  'AFTER UPDATE statement trigger on molecules: moves the energy per atom of the calculations of molecules whose '
  'n_atoms changed to their new cells.';

select public.create_statement_triggers('public.molecules', 'public.molecules_recount_histograms', '{update}');

create function public.molecules_uncount_histograms()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  perform public.add_histogram_cells(array_agg(c.user_id), array_agg(old.n_atoms),
                                     array_agg(c.total_energy_eh), array_agg(c.homo_lumo_gap_ev), array_agg(-1))
     from public.calculations c
    where c.user_id = old.user_id and c.molecule_id = old.id
      and (c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null)
   having count(*) > 0;
  return old;
end;
$$;

comment on function public.molecules_uncount_histograms() is
  'BEFORE DELETE row trigger on molecules: takes the molecule''s calculations out of histogram_cells while its n_atoms '
  'is still there (the cascade deletes them after the molecule row).';
revoke execute on function public.molecules_uncount_histograms() from public, anon, authenticated, service_role;

create trigger molecules_uncount_histograms_before_delete
  before delete on public.molecules
  for each row execute function public.molecules_uncount_histograms();

-- ---------------------------------------------------------------------------------------------
-- Repair and backfill: every user's cells from the tables (database owner only)
-- ---------------------------------------------------------------------------------------------
create function public.refresh_histogram_cells()
  returns void
  language plpgsql security definer set search_path = ''
as $$
begin
  -- Writers wait until this transaction ends, so no change slips between the count and the store.
  lock table public.molecules, public.calculations in share mode;
  lock table public.histogram_blocks, public.histogram_cells in exclusive mode;
  delete from public.histogram_blocks;
  delete from public.histogram_cells;
  perform public.add_histogram_cells(array_agg(c.user_id), array_agg(m.n_atoms),
                                     array_agg(c.total_energy_eh), array_agg(c.homo_lumo_gap_ev), array_agg(1))
     from public.calculations c
     join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
    where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null
   having count(*) > 0;
end;
$$;

comment on function public.refresh_histogram_cells() is
  'Rebuilds histogram_blocks and histogram_cells from calculations and molecules under share locks. Owner only (backfill, repair).';
revoke execute on function public.refresh_histogram_cells() from public, anon, authenticated, service_role;

select public.refresh_histogram_cells();
