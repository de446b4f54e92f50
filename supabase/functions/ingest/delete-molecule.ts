// DELETE /ingest/molecules/:id: the molecule with its calculations and their atoms (foreign keys
// cascade); the triggers log one event per row with a snapshot of it. A molecule that a live batch
// item still needs is a 409 unless `force=true`, which cancels those items first. So is one whose
// calculations a published release holds (naming the release); `force=true` withdraws it.
import type { DeleteMoleculeResponse } from '../../../shared/contract/manage.ts';
import { DeleteEntityQuery } from '../../../shared/contract/manage-delete.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';
import { withdrawHeldReleases } from '../_shared/release-withdraw.ts';

export async function deleteMolecule(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const force = parseQuery(c, DeleteEntityQuery).force === 'true';
  const result = await c.var.db(async (tx): Promise<DeleteMoleculeResponse | undefined> => {
    // Lock the molecule first, so no batch item can be created for it while we decide.
    const [molecule] = await tx`select id from public.molecules where id = ${id} for update`;
    if (!molecule) return undefined;
    const live = await tx<{ id: string }[]>`
      select id from public.batch_items where molecule_id = ${id} and status in ('pending', 'claimed') for update`;
    if (live.length && !force) {
      throw conflict(`the molecule is needed by ${live.length} pending or claimed batch item(s); cancel them or use force=true`,
        live.slice(0, 20).map((i) => ({ path: 'batch_items', issue: i.id })));
    }
    if (live.length) {
      await tx`update public.batch_items set status = 'cancelled', lease_expires_at = null where id = any(${live.map((i) => i.id)}::uuid[])`;
    }
    const [counts] = await tx`
      select count(*)::int as calculations,
             coalesce(sum((select count(*) from public.atomic_properties a where a.calculation_id = k.id)), 0)::int as atoms
        from public.calculations k where k.molecule_id = ${id}`;
    if (force) await withdrawHeldReleases(tx, `molecule ${id} deleted with force`);
    await tx`delete from public.molecules where id = ${id}`;
    return { deleted: { calculations: counts.calculations, atoms: counts.atoms, molecules: 1 }, cancelled_batch_items: live.length };
  });
  if (!result) throw notFound('molecule');
  return c.json(result);
}
