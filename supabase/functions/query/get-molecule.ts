// GET /molecules/:id: the molecule with its calculations, oldest first. At most
// MOLECULE_CALCULATIONS_INLINE are listed; `calculations_next_cursor` continues with
// GET /calculations?molecule_id=<id>&cursor=…
import { GetByIdQuery, MOLECULE_CALCULATIONS_INLINE, type CalculationRow, type MoleculeDetail, type MoleculeRow } from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';
import { calculationPage } from './list-calculations.ts';
import { moleculeColumns } from './list-molecules.ts';

export async function getMolecule(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  parseQuery(c, GetByIdQuery);
  const detail = await c.var.db(async (tx): Promise<MoleculeDetail | undefined> => {
    const [molecule] = await tx<MoleculeRow[]>`select ${moleculeColumns(tx)} from public.molecules m where m.id = ${id}::uuid`;
    if (!molecule) return undefined;
    const page = await calculationPage(tx, { molecule_id: id }, { sort: 'created_at', order: 'asc' }, MOLECULE_CALCULATIONS_INLINE);
    return { ...molecule, calculations: JSON.parse(page.json) as CalculationRow[], calculations_next_cursor: page.next_cursor };
  });
  if (!detail) throw notFound('molecule');
  return c.json(detail, 200);
}
