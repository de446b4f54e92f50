// GET /molecules/:id: the molecule with its calculations, oldest first. At most
// MOLECULE_CALCULATIONS_INLINE are listed; `calculations_next_cursor` continues with
// GET /calculations?molecule_id=<id>&cursor=…
import type { Context } from 'hono';
import { GetByIdQuery, MOLECULE_CALCULATIONS_INLINE, type CalculationRow, type MoleculeDetail, type MoleculeRow } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { notFound } from '../_shared/errors.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { calculationPage } from './list-calculations.ts';
import { moleculeColumns } from './list-molecules.ts';
import { parseQuery, uuidParam } from './params.ts';

export function getMolecule(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = uuidParam(c);
    const q = parseQuery(GetByIdQuery, c);
    const claims = c.get('claims');
    const detail = await withCaller(deps.sql, claims, async (tx) => {
      const [molecule] = await tx<MoleculeRow[]>`select ${moleculeColumns(tx)} from public.molecules m where m.id = ${id}::uuid`;
      if (!molecule) return undefined;
      const page = await calculationPage(tx, { molecule_id: id }, { sort: 'created_at', order: 'asc' }, MOLECULE_CALCULATIONS_INLINE);
      const result: MoleculeDetail = {
        ...molecule, calculations: JSON.parse(page.json) as CalculationRow[], calculations_next_cursor: page.next_cursor,
      };
      return result;
    }, { actAs: resolveOwner(claims, q.user_id, 'query'), statementTimeoutMs: deps.env.statementTimeoutMs });
    if (!detail) throw notFound('molecule');
    return c.json(detail, 200);
  };
}
