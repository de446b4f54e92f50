-- SQL functions of the query function. Both are `security invoker`: they read as the caller, so
-- row-level security decides what they see, exactly as for the function's own statements.
--
--   public.formula_elements(formula)   the distinct element symbols of a Hill formula, sorted:
--                                      'C2H6O' -> {C,H,O}. Backs the `elements=C,N,O` filter
--                                      ("contains all of": formula_elements(formula) @> '{C,N,O}').
--   public.calculation_histograms(bins)
--                                      the caller's distributions of energy per atom
--                                      (total_energy_eh / n_atoms, Eh) and of the HOMO-LUMO gap
--                                      (eV), as equal-width histograms over the occupied range,
--                                      summed from the trigger-kept cells of histogram_cells
--                                      (migration histogram_cells; bins are whole cells, so the
--                                      counts are exact and the edges fall on the cell grid).

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

revoke execute on function public.formula_elements(text) from public, anon, authenticated;
grant execute on function public.formula_elements(text) to qf_api, service_role;

create function public.calculation_histograms(p_bins integer)
  returns jsonb
  language plpgsql
  stable
  security invoker
  set search_path = ''
as $$
begin
  if p_bins is null or p_bins < 1 or p_bins > 1000 then
    raise exception 'calculation_histograms: bins must be between 1 and 1000, got %', p_bins
      using errcode = 'invalid_parameter_value';
  end if;

  -- From the trigger-kept cells (migration histogram_cells), not the calculations: a few thousand
  -- rows whatever the number of calculations. Each bin is k whole cells, so every count is exact;
  -- the occupied cells lo..hi are widened evenly on both sides to fill the bins.
  return (
    with cells as (
      select h.quantity, h.cell, sum(h.n)::bigint as n
        from public.histogram_cells h
       group by h.quantity, h.cell
      having sum(h.n) <> 0
    ),
    span as (
      select c.quantity, min(c.cell) as lo, max(c.cell) as hi, sum(c.n)::bigint as total
        from cells c
       group by c.quantity
    ),
    grid as (
      select q.quantity, q.label, public.histogram_cell_width(q.quantity) as width, s.lo, s.hi,
             coalesce(s.total, 0) as total, k.k,
             s.lo - (k.k * p_bins - (s.hi - s.lo + 1)) / 2 as first
        from (values ('energy_per_atom_eh', 'total_energy_eh / n_atoms (Eh)'),
                     ('homo_lumo_gap_ev', 'homo_lumo_gap_ev (eV)')) as q (quantity, label)
        left join span s on s.quantity = q.quantity
       cross join lateral (select (s.hi - s.lo + p_bins) / p_bins as k) k  -- ceil(cells / bins)
    ),
    binned as (
      select g.quantity, (c.cell - g.first) / g.k + 1 as bin, sum(c.n)::bigint as n
        from grid g
        join cells c on c.quantity = g.quantity
       group by 1, 2
    )
    select jsonb_object_agg(g.quantity, jsonb_build_object(
             'quantity', g.label,
             'bins', p_bins,
             'count', g.total,
             'min', g.lo * g.width,
             'max', (g.hi + 1) * g.width,
             'edges', (select coalesce(jsonb_agg((g.first + g.k * i) * g.width order by i), '[]')
                         from generate_series(0, p_bins) as i where g.lo is not null),
             'counts', (select jsonb_agg(coalesce(b.n, 0) order by i)
                          from generate_series(1, p_bins) as i
                          left join binned b on b.quantity = g.quantity and b.bin = i)))
      from grid g);
end;
$$;

comment on function public.calculation_histograms(integer) is
  'The caller''s histograms (RLS applies) of energy per atom (Eh) and HOMO-LUMO gap (eV), from histogram_cells: bins '
  'equal-width bins of whole cells (public.histogram_cell_width) covering the occupied range; bin i holds the cells '
  'from edges[i] up to edges[i+1]; min and max are the outer edges of the lowest and highest occupied cell.';

revoke execute on function public.calculation_histograms(integer) from public, anon, authenticated;
grant execute on function public.calculation_histograms(integer) to qf_api, service_role;
