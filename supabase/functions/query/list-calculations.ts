// GET /calculations: any combination of filters, sorted by created_at, energy, gap or dipole, one
// keyset page at a time (no OFFSET: page 10,000 costs what page 1 costs).
import type { Context } from 'hono';
import { ListCalculationsQuery } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller, type Tx } from '../_shared/db.ts';
import { resolveOwner } from '../_shared/owner.ts';
import {
  calculationColumns, filterClause, fromCalculations, keysetClause, keysetFrom, orderClause, resolveFilters, SORT_COLUMNS,
  type Keyset, type ResolvedFilters,
} from './calculation-sql.ts';
import { decodeCalculationCursor, encodeCursor } from './cursor.ts';
import { parseQuery } from './params.ts';

/**
 * One page of calculations as JSON text, written by PostgreSQL (row_to_json: no per-column parsing
 * and re-serialising here), and the cursor after it (null when no row follows).
 */
export async function calculationPage(
  tx: Tx, filters: ResolvedFilters, keyset: Keyset, limit: number,
): Promise<{ json: string; next_cursor: string | null }> {
  const key = keyset.sort === 'created_at' ? 'created_at' : SORT_COLUMNS[keyset.sort];
  // The subquery's order is kept: the outer query only formats each row.
  const rows = await tx<{ json: string; id: string; k: number | string }[]>`
    select row_to_json(r)::text as json, r.id, r.${tx(key)} as k
      from (select ${calculationColumns(tx)}
              from ${fromCalculations(tx)}
             where ${filterClause(tx, filters)} and ${keysetClause(tx, keyset)}
             order by ${orderClause(tx, keyset)}
             limit ${limit + 1}) r`;
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    json: '[' + page.map((r) => r.json).join(',') + ']',
    next_cursor: more ? encodeCursor({ r: 'calculations', s: keyset.sort, o: keyset.order, v: last.k, id: last.id }) : null,
  };
}

export function listCalculations(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const q = parseQuery(ListCalculationsQuery, c);
    const claims = c.get('claims');
    const actAs = resolveOwner(claims, q.user_id, 'query');
    const cursor = q.cursor ? decodeCalculationCursor(q.cursor, q.sort, q.order) : undefined;
    const keyset = keysetFrom(q.sort, q.order, cursor);
    const filters = await resolveFilters(q);
    const page = await withCaller(deps.sql, claims, (tx) => calculationPage(tx, filters, keyset, q.limit),
      { actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    // Page<CalculationRow>, assembled from the rows' JSON text.
    return c.body(`{"data":${page.json},"next_cursor":${JSON.stringify(page.next_cursor)}}`, 200,
      { 'content-type': 'application/json; charset=utf-8' });
  };
}
