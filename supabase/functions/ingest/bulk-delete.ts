// POST /ingest/delete: deletes calculations by any /query/calculations filter plus `source`, in one
// transaction. A dry run (the default) reports what would go and deletes nothing; orphaned
// molecules go only when asked; a selection of everything needs `confirm: "all"`. Calculations a
// published release holds make it a 409 naming the release, unless `force: true` withdraws it.
import { BulkDeleteBody, type BulkDeleteResponse } from '../../../shared/contract/manage.ts';
import { filterClause, resolveFilters, type ResolvedFilters } from '../_shared/calculation-filters.ts';
import { settleOwner, type RequestContext } from '../_shared/caller.ts';
import type { Tx } from '../_shared/db.ts';
import { unprocessable } from '../_shared/errors.ts';
import { withdrawHeldReleases } from '../_shared/release-withdraw.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';

const MAX_BODY_BYTES = 64 * 1024;

function selection(tx: Tx, filters: ResolvedFilters, source: string | undefined, prefix: boolean) {
  const bySource = source === undefined
    ? tx`true`
    : prefix
      ? tx`c.source like ${source.replace(/[\\%_]/g, (ch) => '\\' + ch) + '%'}`
      : tx`c.source = ${source}`;
  return tx`
    select c.id, c.molecule_id
      from public.calculations c
      join public.molecules m on m.id = c.molecule_id
     where ${filterClause(tx, filters)} and ${bySource}`;
}

export async function bulkDelete(c: RequestContext): Promise<Response> {
  const body = parseOr(BulkDeleteBody, await readJsonBody(c, MAX_BODY_BYTES));
  if (body.filters.user_id !== undefined) {
    throw unprocessable('filters.user_id: name the user with the top-level user_id', [{ path: 'filters.user_id', issue: 'not allowed here' }]);
  }
  const narrowed = Object.keys(body.filters).length > 0 || body.source !== undefined;
  if (!narrowed && body.confirm !== 'all') {
    throw unprocessable('this selects every calculation: add filters or source, or send confirm: "all"',
      [{ path: 'confirm', issue: 'required as "all" when nothing narrows the selection' }]);
  }
  // The owner only after the checks above, which speak of the request as a whole.
  settleOwner(c, body, 'body');
  const filters = await resolveFilters(body.filters);

  const response = await c.var.db(async (tx): Promise<BulkDeleteResponse> => {
    const picked = selection(tx, filters, body.source, body.source_prefix);
    // Counted before anything changes: the dry run and the real run report the same numbers.
    const [counts] = await tx`
      with doomed as (${picked}),
           touched as (select distinct molecule_id from doomed),
           orphans as (
             select t.molecule_id from touched t
              where not exists (select 1 from public.calculations k
                                 where k.molecule_id = t.molecule_id and k.id not in (select id from doomed))
                and not exists (select 1 from public.batch_items i where i.molecule_id = t.molecule_id))
      select (select count(*) from doomed)::int as calculations,
             (select count(*) from public.atomic_properties a where a.calculation_id in (select id from doomed))::int as atoms,
             (select count(*) from orphans)::int as orphans`;
    const deleted = {
      calculations: counts.calculations,
      atoms: counts.atoms,
      molecules: body.delete_orphan_molecules ? counts.orphans : 0,
    };
    const result = { dry_run: body.dry_run, deleted, orphan_molecules_kept: body.delete_orphan_molecules ? 0 : counts.orphans };
    if (body.dry_run) return result;

    if (body.force) await withdrawHeldReleases(tx, 'calculations deleted with force by POST /ingest/delete');

    const gone = await tx<{ molecule_id: string }[]>`
      delete from public.calculations c using (${picked}) d where c.id = d.id returning c.molecule_id`;
    if (body.delete_orphan_molecules && gone.length) {
      await tx`
        delete from public.molecules m
         where m.id = any(${[...new Set(gone.map((g) => g.molecule_id))]}::uuid[])
           and not exists (select 1 from public.calculations k where k.molecule_id = m.id)
           and not exists (select 1 from public.batch_items i where i.molecule_id = m.id)`;
    }
    return result;
  });
  return c.json(response);
}
