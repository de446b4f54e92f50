-- Backfill calculations.gradient_norm_eh_bohr from the stored per-atom gradients (data only).
--
-- Until 2026-12-02 the xTB parser (shared/xtb/job.ts, used by the uploader and the runner) filled
-- gradient_norm_eh_bohr for `opt` tasks only, so every stored `grad` calculation has it null although
-- xtb printed the norm and its gradient is stored atom by atom.
--
-- xtb's GRADIENT NORM is sqrt(sum over atoms of gx^2 + gy^2 + gz^2): the Euclidean norm of the whole
-- 3N gradient (it equals xtb 6.5.1's printed value to 1e-12 on the fixture sample; see
-- test/unit/xtb-job.test.ts). atomic_properties stores the gradient in Eh/bohr (grad_*_eh_bohr,
-- checked all-three-or-none and finite), the unit of the column, so no conversion is needed.
--
-- Which rows: a null norm and a gradient on every atom of the calculation. Ingest stores a gradient
-- for all atoms or for none, so a probe of atom 0 (a primary-key lookup) finds the candidates without
-- reading the atoms of the many calculations that have no gradient; `having` then insists on all.
-- Idempotent: a second run finds no null norm to fill. Rows with a norm are never changed.
--
-- Side effects: updated_at moves on the filled rows (set_updated_at); no event is logged (the event
-- triggers log status changes only) and user_stats do not change (status and method are unchanged).
with candidates as (
  select c.user_id, c.id
    from public.calculations c
   where c.gradient_norm_eh_bohr is null
     and exists (select 1
                   from public.atomic_properties a
                  where a.calculation_id = c.id and a.atom_index = 0 and a.grad_x_eh_bohr is not null)
), norms as (
  select a.user_id, a.calculation_id,
         sqrt(sum(a.grad_x_eh_bohr ^ 2 + a.grad_y_eh_bohr ^ 2 + a.grad_z_eh_bohr ^ 2)) as norm_eh_bohr
    from candidates k
    join public.atomic_properties a on a.calculation_id = k.id and a.user_id = k.user_id
   group by a.user_id, a.calculation_id
  having count(*) = count(a.grad_x_eh_bohr)
)
update public.calculations c
   set gradient_norm_eh_bohr = n.norm_eh_bohr
  from norms n
 where c.user_id = n.user_id
   and c.id = n.calculation_id
   and c.gradient_norm_eh_bohr is null;
