// DELETE /ingest/calculations/:id: the calculation and its atoms (the foreign key cascades); the
// triggers log the delete with a snapshot of the row. A calculation a published release holds is
// a 409 naming the release, unless `force=true`, which withdraws the release (its manifest says why).
import type { DeleteMoleculeResponse } from '../../../shared/contract/manage.ts';
import { DeleteEntityQuery } from '../../../shared/contract/manage-delete.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';
import { withdrawHeldReleases } from '../_shared/release-withdraw.ts';

export async function deleteCalculation(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const force = parseQuery(c, DeleteEntityQuery).force === 'true';
  const deleted = await c.var.db(async (tx): Promise<DeleteMoleculeResponse['deleted'] | undefined> => {
    if (force) await withdrawHeldReleases(tx, `calculation ${id} deleted with force`);
    const [atoms] = await tx`select count(*)::int as n from public.atomic_properties where calculation_id = ${id}`;
    const gone = await tx`delete from public.calculations where id = ${id} returning id`;
    return gone.length ? { calculations: 1, atoms: atoms.n, molecules: 0 } : undefined;
  });
  if (!deleted) throw notFound('calculation');
  return c.json({ deleted });
}
