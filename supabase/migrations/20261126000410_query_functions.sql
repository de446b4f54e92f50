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
--                                      summed from the trigger-kept blocks and cells
--                                      (migration histogram_cells; bins are whole cells, so the
--                                      counts are exact and the edges fall on the cell grid;
--                                      the read is O(bins + occupied blocks), not O(cells)).

create function public.formula_elements(formula text)
  returns text[]
  language sql immutable strict parallel safe set search_path = ''
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
  language plpgsql stable security invoker set search_path = ''
as $$
begin
  if p_bins is null or p_bins < 1 or p_bins > 1000 then
    raise exception 'calculation_histograms: bins must be between 1 and 1000, got %', p_bins
      using errcode = 'invalid_parameter_value';
  end if;

  -- From the trigger-kept blocks and cells (migration histogram_cells), never the calculations,
  -- and never every cell: each bin is k whole cells, so its count is F(its upper edge) - F(its
  -- lower edge), where F(e), the count of values in cells below e, is the whole blocks that start
  -- below e less the cells from e to the end of the block that e cuts (if it cuts one). That reads
  -- the occupied blocks, the cells of the lowest and highest one (for the exact range), and at
  -- most 31 cells per edge. The occupied cells lo..hi are widened evenly on both sides to fill
  -- the bins.
  return (
    with blocks as (
      select b.quantity, b.block, sum(b.n)::bigint as n
        from public.histogram_blocks b
       group by b.quantity, b.block
      having sum(b.n) <> 0
    ),
    ends as (
      select b.quantity, min(b.block) as lo_block, max(b.block) as hi_block, sum(b.n)::bigint as total
        from blocks b
       group by b.quantity
    ),
    span as (
      -- A cell's count is never negative, so the occupied blocks hold the occupied cells.
      select e.quantity, e.total,
             (select min(x.cell) from (select h.cell from public.histogram_cells h
                                        where h.quantity = e.quantity
                                          and h.cell between e.lo_block * 32 and e.lo_block * 32 + 31
                                        group by h.cell having sum(h.n) <> 0) x) as lo,
             (select max(x.cell) from (select h.cell from public.histogram_cells h
                                        where h.quantity = e.quantity
                                          and h.cell between e.hi_block * 32 and e.hi_block * 32 + 31
                                        group by h.cell having sum(h.n) <> 0) x) as hi
        from ends e
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
    edges as (
      select g.quantity, i.i, g.first + g.k * i.i as edge
        from grid g
       cross join generate_series(0, p_bins) as i (i)
       where g.lo is not null
    ),
    -- Blocks and edges in one order: an edge sorts before a block starting at the same cell, so
    -- the running sum at an edge is the blocks that start below it.
    marks as (
      select b.quantity, b.block * 32 as at, 1 as kind, b.n, null::integer as i from blocks b
      union all
      select e.quantity, e.edge, 0, 0, e.i from edges e
    ),
    below as (
      select m.quantity, m.i, m.at as edge,
             sum(m.n) over (partition by m.quantity order by m.at, m.kind rows unbounded preceding) as started
        from marks m
    ),
    f as (
      select b.quantity, b.i,
             b.started - coalesce((select sum(h.n) from public.histogram_cells h
                                    where h.quantity = b.quantity
                                      and h.cell >= b.edge
                                      and h.cell <= public.histogram_block(b.edge) * 32 + 31
                                      and b.edge % 32 <> 0), 0) as n
        from below b
       where b.i is not null
    ),
    -- Materialized: the counts below read it once per quantity, and an inlined CTE would
    -- compute every bin again for each.
    binned as materialized (
      select f.quantity, f.i as bin, (f.n - lag(f.n) over (partition by f.quantity order by f.i))::bigint as n
        from f
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
  'The caller''s histograms (RLS applies) of energy per atom (Eh) and HOMO-LUMO gap (eV), from histogram_blocks and '
  'histogram_cells: bins '
  'equal-width bins of whole cells (public.histogram_cell_width) covering the occupied range; bin i holds the cells '
  'from edges[i] up to edges[i+1]; min and max are the outer edges of the lowest and highest occupied cell.';

revoke execute on function public.calculation_histograms(integer) from public, anon, authenticated;
grant execute on function public.calculation_histograms(integer) to qf_api, service_role;
