// GET /calculations/:id: one calculation with its atoms in atom order. Another user's id is a 404,
// exactly like an id that does not exist (row-level security hides it).
import { GetByIdQuery, type AtomRow, type CalculationDetail, type CalculationRow } from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';
import { calculationColumns, fromCalculations } from './calculation-sql.ts';

export async function getCalculation(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  parseQuery(c, GetByIdQuery);
  const detail = await c.var.db(async (tx) => {
    const [row] = await tx<CalculationRow[]>`select ${calculationColumns(tx)} from ${fromCalculations(tx)} where c.id = ${id}::uuid`;
    if (!row) return undefined;
    const atoms = await tx<AtomRow[]>`
      select a.atom_index, a.element, a.atomic_number::int as atomic_number,
             array[a.x_ang, a.y_ang, a.z_ang] as xyz_ang,
             a.partial_charge_e,
             case when a.grad_x_eh_bohr is not null
                  then array[a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr] end as gradient_eh_bohr
        from public.atomic_properties a
       where a.calculation_id = ${id}::uuid
       order by a.atom_index`;
    return { ...row, atoms: [...atoms] } as CalculationDetail;
  });
  if (!detail) throw notFound('calculation');
  return c.json(detail, 200);
}
