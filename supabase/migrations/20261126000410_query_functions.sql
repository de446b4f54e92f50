-- SQL functions of the query function. Both are `security invoker`: they read as the caller, so
-- row-level security decides what they see, exactly as for the function's own statements.
--
--   public.formula_elements(formula)   the distinct element symbols of a Hill formula, sorted:
--                                      'C2H6O' -> {C,H,O}. Backs the `elements=C,N,O` filter
--                                      ("contains all of": formula_elements(formula) @> '{C,N,O}').
--   public.calculation_histograms(bins)
--                                      the caller's distributions of energy per atom
--                                      (total_energy_eh / n_atoms, Eh) and of the HOMO-LUMO gap
--                                      (eV), as equal-width histograms between the smallest and the
--                                      largest value (width_bucket), computed in one pass over
--                                      an index-only scan (migration query_indexes).

create function public.formula_elements(formula text)
  returns text[]
  language sql
  immutable
  strict
  parallel safe
  set search_path = ''
as $$
  select coalesce(array_agg(distinct m[1] order by m[1]), '{}')
    from regexp_matches(formula, '([A-Z][a-z]?)', 'g') as m;
$$;

comment on function public.formula_elements(text) is
  'Distinct element symbols of a formula, sorted: C2H6O -> {C,H,O}. For the elements ("contains all of") filter.';

revoke execute on function public.formula_elements(text) from public, anon;
grant execute on function public.formula_elements(text) to authenticated, service_role;

create function public.calculation_histograms(p_bins integer)
  returns jsonb
  language plpgsql
  stable
  security invoker
  set search_path = ''
as $$
declare
  e_lo double precision;
  e_hi double precision;
  g_lo double precision;
  g_hi double precision;
  e_counts bigint[] := array_fill(0::bigint, array[p_bins]);
  g_counts bigint[] := array_fill(0::bigint, array[p_bins]);
  e_total bigint := 0;
  g_total bigint := 0;
  r record;
begin
  if p_bins is null or p_bins < 1 or p_bins > 1000 then
    raise exception 'calculation_histograms: bins must be between 1 and 1000, got %', p_bins
      using errcode = 'invalid_parameter_value';
  end if;

  -- Bounds without a pass over the rows: the gap's are the end points of the
  -- (user_id, homo_lumo_gap_ev, id) index; energy per atom is monotonic in the energy for a given
  -- molecule, so its bounds come from each molecule's lowest and highest energy (two end points
  -- of the (user_id, molecule_id, total_energy_eh) index per molecule).
  select min(c.homo_lumo_gap_ev), max(c.homo_lumo_gap_ev) into g_lo, g_hi
    from public.calculations c;

  select min(b.lo / m.n_atoms), max(b.hi / m.n_atoms) into e_lo, e_hi
    from public.molecules m
    cross join lateral (
      select min(c.total_energy_eh) as lo, max(c.total_energy_eh) as hi
        from public.calculations c
       where c.molecule_id = m.id and c.user_id = m.user_id
    ) b;

  -- All values equal: one bin of width 1 centred on the value, rather than a zero-width range.
  if e_lo = e_hi then e_lo := e_lo - 0.5; e_hi := e_hi + 0.5; end if;
  if g_lo = g_hi then g_lo := g_lo - 0.5; g_hi := g_hi + 0.5; end if;

  if e_lo is not null or g_lo is not null then
    -- One pass over the index (user_id, molecule_id, total_energy_eh) include (homo_lumo_gap_ev),
    -- molecule by molecule, counting each (energy bin, gap bin) pair in a hash table; the pairs are
    -- then added up per axis. width_bucket puts the maximum in bin bins + 1: it belongs to the last.
    for r in
      -- (least() ignores nulls: the case keeps a missing value out of the last bin.)
      select case when c.total_energy_eh is not null
                  then least(width_bucket(c.total_energy_eh / m.n_atoms, e_lo, e_hi, p_bins), p_bins) end as e_bin,
             case when c.homo_lumo_gap_ev is not null
                  then least(width_bucket(c.homo_lumo_gap_ev, g_lo, g_hi, p_bins), p_bins) end as g_bin,
             count(*) as n
        from public.molecules m
        join public.calculations c on c.molecule_id = m.id and c.user_id = m.user_id
       where c.total_energy_eh is not null or c.homo_lumo_gap_ev is not null
       group by 1, 2
    loop
      -- A null bin: the calculation has no such value.
      if r.e_bin is not null then
        e_counts[r.e_bin] := e_counts[r.e_bin] + r.n;
        e_total := e_total + r.n;
      end if;
      if r.g_bin is not null then
        g_counts[r.g_bin] := g_counts[r.g_bin] + r.n;
        g_total := g_total + r.n;
      end if;
    end loop;
  end if;

  return jsonb_build_object(
    'energy_per_atom_eh', jsonb_build_object(
      'quantity', 'total_energy_eh / n_atoms (Eh)',
      'bins', p_bins, 'count', e_total, 'min', e_lo, 'max', e_hi,
      'edges', (select coalesce(jsonb_agg(e_lo + (e_hi - e_lo) * i / p_bins order by i), '[]')
                  from generate_series(0, p_bins) as i where e_lo is not null),
      'counts', to_jsonb(e_counts)),
    'homo_lumo_gap_ev', jsonb_build_object(
      'quantity', 'homo_lumo_gap_ev (eV)',
      'bins', p_bins, 'count', g_total, 'min', g_lo, 'max', g_hi,
      'edges', (select coalesce(jsonb_agg(g_lo + (g_hi - g_lo) * i / p_bins order by i), '[]')
                  from generate_series(0, p_bins) as i where g_lo is not null),
      'counts', to_jsonb(g_counts)));
end;
$$;

comment on function public.calculation_histograms(integer) is
  'The caller''s histograms (RLS applies) of energy per atom (Eh) and HOMO-LUMO gap (eV): bins equal-width bins '
  'between the smallest and largest value; bin i holds edges[i] <= v < edges[i+1], the last bin also the maximum.';

revoke execute on function public.calculation_histograms(integer) from public, anon;
grant execute on function public.calculation_histograms(integer) to authenticated, service_role;
