// The SQL of a calculations selection, shared by /calculations, /molecules/:id and /export: the
// keyset (its cursor, order and condition) and the columns of a CalculationRow, over
// `calculations c join molecules m` with the filters of _shared/calculation-filters.ts. Row-level
// security, not these clauses, limits the rows to the caller's: nothing here mentions user_id.
//
// Sorting by energy, gap or dipole lists only rows that have that value (running and failed
// calculations have none); sort by created_at (the default) to list every row.
import { z } from 'zod';
import { ORDERS, SORT_KEYS, type Order, type SortKey } from '../../../shared/contract/query.ts';
import { and } from '../_shared/calculation-filters.ts';
import { CursorField, cursorCodec, cursorError, iso } from '../_shared/cursor.ts';
import type { Fragment, Tx } from '../_shared/db.ts';
import { specificationHash } from '../_shared/export-formats.ts';
import { cursorParam } from '../_shared/params.ts';
export { iso, type Fragment };

export const SORT_COLUMNS: Record<SortKey, string> = {
  created_at: 'created_at',
  energy: 'total_energy_eh',
  gap: 'homo_lumo_gap_ev',
  dipole: 'dipole_debye',
};

/** Where a calculations listing (or export) continues: its sort key, direction, and last row. */
const calculationCursor = cursorCodec('calculations', {
  s: z.enum(SORT_KEYS),
  o: z.enum(ORDERS),
  /** The last row's sort value: created_at as iso() text, or the number. */
  v: z.union([CursorField.number, CursorField.time]),
  id: CursorField.id,
}, (p) => ((p.s === 'created_at') !== (typeof p.v === 'string') ? 'sort value does not match the sort key' : undefined));

export interface Keyset {
  sort: SortKey;
  order: Order;
  /** Continue strictly after this row... */
  after?: { v: number | string; id: string };
  /** ...and stop at this one, inclusive (an export's last row). */
  through?: { v: number | string; id: string };
}

/** The keyset of a request: its cursor's, which `sort`/`order` given with it must agree with. */
export function keysetFrom(q: { sort?: SortKey; order?: Order; cursor?: string }): Keyset {
  const cursor = cursorParam(calculationCursor, q.cursor);
  if (!cursor) return { sort: q.sort ?? 'created_at', order: q.order ?? 'asc' };
  if ((q.sort && q.sort !== cursor.s) || (q.order && q.order !== cursor.o)) {
    throw cursorError(`this cursor continues sort=${cursor.s}&order=${cursor.o}; drop sort/order or start without a cursor`);
  }
  return { sort: cursor.s, order: cursor.o, after: { v: cursor.v, id: cursor.id } };
}

/** The cursor that continues a keyset after `last`. */
export const cursorAfter = (k: Keyset, last: { v: number | string; id: string }): string =>
  calculationCursor.encode({ s: k.sort, o: k.order, v: last.v, id: last.id });

const sortValue = (tx: Tx, k: Keyset, v: number | string) =>
  k.sort === 'created_at' ? tx`${v as string}::text::timestamptz` : tx`${v as number}::float8`;

/** The keyset's conditions: non-null sort value, after the cursor, up to the last row. */
export function keysetClause(tx: Tx, k: Keyset): Fragment {
  const col = tx`c.${tx(SORT_COLUMNS[k.sort])}`;
  const w: Fragment[] = [];
  if (k.sort !== 'created_at') w.push(tx`${col} is not null`);
  if (k.after) {
    w.push(k.order === 'asc'
      ? tx`(${col}, c.id) > (${sortValue(tx, k, k.after.v)}, ${k.after.id}::uuid)`
      : tx`(${col}, c.id) < (${sortValue(tx, k, k.after.v)}, ${k.after.id}::uuid)`);
  }
  if (k.through) {
    w.push(k.order === 'asc'
      ? tx`(${col}, c.id) <= (${sortValue(tx, k, k.through.v)}, ${k.through.id}::uuid)`
      : tx`(${col}, c.id) >= (${sortValue(tx, k, k.through.v)}, ${k.through.id}::uuid)`);
  }
  return and(tx, w);
}

export function orderClause(tx: Tx, k: Keyset): Fragment {
  const col = tx`c.${tx(SORT_COLUMNS[k.sort])}`;
  return k.order === 'asc' ? tx`${col} asc, c.id asc` : tx`${col} desc, c.id desc`;
}

/** The sort value as a cursor stores it: the number, or created_at as its exact ISO text. */
export const cursorValueColumn = (tx: Tx, k: Keyset): Fragment =>
  k.sort === 'created_at' ? iso(tx, tx`c.created_at`) : tx`c.${tx(SORT_COLUMNS[k.sort])}`;

/** The columns of a CalculationRow (contract), for `from calculations c join molecules m`. */
export function calculationColumns(tx: Tx): Fragment {
  return tx`
    c.id, c.molecule_id, m.canonical_smiles, m.inchikey, m.formula, m.n_atoms, m.name as molecule_name,
    c.batch_item_id, c.method, c.task, c.solvent, c.charge, c.multiplicity, c.status,
    c.total_energy_eh, c.homo_lumo_gap_ev, c.dipole_debye, c.dipole_au, c.converged, c.gradient_norm_eh_bohr,
    c.wall_time_s, c.xtb_version, c.geometry_sha256,
    ${specificationHash(tx)} as specification_hash, c.same_structure_as,
    c.source, c.tags, c.metadata, c.error_message,
    ${iso(tx, tx`c.started_at`)} as started_at, ${iso(tx, tx`c.completed_at`)} as completed_at,
    ${iso(tx, tx`c.created_at`)} as created_at, ${iso(tx, tx`c.updated_at`)} as updated_at`;
}

export const fromCalculations = (tx: Tx) =>
  tx`public.calculations c join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id`;
