// GET /calculations: any combination of filters, sorted by created_at, energy, gap or dipole, one
// keyset page at a time (no OFFSET: page 10,000 costs what page 1 costs).
import { ListCalculationsQuery } from '../../../shared/contract/query.ts';
import { filterClause, resolveFilters, type ResolvedFilters } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import type { Tx } from '../_shared/db.ts';
import { fetchPage } from '../_shared/page.ts';
import { parseQuery } from '../_shared/params.ts';
import {
  calculationColumns, cursorAfter, keysetFrom, keysetPartSelects, SORT_COLUMNS, type Keyset,
} from './calculation-sql.ts';

/**
 * One page of calculations as JSON text, written by PostgreSQL (row_to_json: no per-column parsing
 * and re-serialising here), and the cursor after it (null when no row follows).
 */
export async function calculationPage(
  tx: Tx, filters: ResolvedFilters, keyset: Keyset, limit: number,
): Promise<{ json: string; next_cursor: string | null }> {
  // The row's own sort value: created_at as iso() text, or the number (null when it has none).
  const key = keyset.sort === 'created_at' ? 'created_at' : SORT_COLUMNS[keyset.sort];
  // The parts in turn (rows with the sort value, then those without), until the page is full.
  // Each subquery's order is kept: the outer query only formats each row.
  const page = await fetchPage(limit, async (n) => {
    const rows: { json: string; id: string; k: number | string | null }[] = [];
    const where = filterClause(tx, filters);
    for (const part of keysetPartSelects(tx, keyset, { columns: calculationColumns(tx), where, limit: n })) {
      if (rows.length >= n) break;
      rows.push(...await tx<typeof rows>`
        select row_to_json(r)::text as json, r.id, r.${tx(key)} as k from (${part}) r limit ${n - rows.length}`);
    }
    return rows;
  }, (last) => cursorAfter(keyset, { v: last.k, id: last.id }));
  return { json: '[' + page.rows.map((r) => r.json).join(',') + ']', next_cursor: page.next_cursor };
}

export async function listCalculations(c: RequestContext): Promise<Response> {
  const q = parseQuery(c, ListCalculationsQuery);
  const keyset = keysetFrom(q);
  const filters = await resolveFilters(q);
  const page = await c.var.db((tx) => calculationPage(tx, filters, keyset, q.limit));
  // Page<CalculationRow>, assembled from the rows' JSON text.
  return c.body(`{"data":${page.json},"next_cursor":${JSON.stringify(page.next_cursor)}}`, 200,
    { 'content-type': 'application/json; charset=utf-8' });
}
