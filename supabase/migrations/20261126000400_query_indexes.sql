-- Indexes for the query function (GET /functions/v1/query/...), each for a query that exists.
-- The plans that justify them are kept in bench/plans/ (EXPLAIN (ANALYZE, BUFFERS) at 10^6 rows).
--
-- Already there (migration molecules_calculations) and used as they are:
--   calculations (user_id, total_energy_eh, id), (user_id, homo_lumo_gap_ev, id),
--   (user_id, dipole_debye, id), (user_id, created_at, id)
--       keyset pages sorted by energy, gap, dipole or created_at: a range condition on the sort
--       value plus `(value, id) > (cursor)` is one index range, so page 10,000 costs what page 1
--       costs;
--   calculations_identity_key (user_id, molecule_id, ...)  calculations of given molecules;
--   molecules (user_id, formula), molecules_user_id_inchikey_idx  formula and InChIKey look-ups.
--
-- Added here:
--   calculations (user_id, molecule_id, total_energy_eh) include (homo_lumo_gap_ev)
--       /stats: the histograms of energy per atom and of the gap read every completed row of the
--       caller. With this index they are one index-only scan (about 60 bytes a row) instead of a
--       scan of the whole table (several hundred bytes a row), and the bounds of energy per atom
--       come from two index end points per molecule. It also serves "the calculations of one
--       molecule, by energy".
--   molecules (user_id, created_at, id)
--       keyset pages of GET /molecules.

create index calculations_user_id_molecule_id_total_energy_eh_idx
  on public.calculations (user_id, molecule_id, total_energy_eh)
  include (homo_lumo_gap_ev);

create index molecules_user_id_created_at_idx
  on public.molecules (user_id, created_at, id);
