// GET /calculations/:id: one calculation with its specification, its provenance and its atoms in
// atom order. Another user's id is a 404, exactly like an id that does not exist (row-level
// security hides it).
import {
  GetByIdQuery, type AtomRow, type CalculationDetail, type CalculationRow, type ProvenanceRow,
} from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';
import { calculationColumns, fromCalculations } from './calculation-sql.ts';

export async function getCalculation(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  parseQuery(c, GetByIdQuery);
  const detail = await c.var.db(async (tx) => {
    const [row] = await tx<(CalculationRow & { specification: Record<string, unknown> })[]>`
      select ${calculationColumns(tx)},
             (select s.spec from public.specifications s where s.id = c.specification_id) as specification
        from ${fromCalculations(tx)} where c.id = ${id}::uuid`;
    if (!row) return undefined;
    const [provenance] = await tx<ProvenanceRow[]>`
      select p.command, p.xtb_version, p.parser_version, p.files, p.input_xyz, p.raw_output_sha256,
             p.raw_output_bytes::float8 as raw_output_bytes
        from public.calculation_provenance p
       where p.calculation_id = ${id}::uuid`;
    const atoms = await tx<AtomRow[]>`
      select a.atom_index, a.element, a.atomic_number::int as atomic_number,
             array[a.x_ang, a.y_ang, a.z_ang] as xyz_ang,
             a.partial_charge_e,
             case when a.grad_x_eh_bohr is not null
                  then array[a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr] end as gradient_eh_bohr
        from public.atomic_properties a
       where a.calculation_id = ${id}::uuid
       order by a.atom_index`;
    return { ...row, provenance: provenance ?? null, atoms: [...atoms] } as CalculationDetail;
  });
  if (!detail) throw notFound('calculation');
  return c.json(detail, 200);
}
