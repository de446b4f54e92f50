// The SQL of a calculations selection, shared by /calculations, /molecules/:id and /export: the
// keyset (its cursor, order and condition) and the columns of a CalculationRow, over
// `calculations c join molecules m` with the filters of _shared/calculation-filters.ts. Row-level
// security, not these clauses, limits the rows to the caller's: nothing here mentions user_id.
//
// Sorting by energy, gap or dipole lists every row: the rows that have the value first, in
// (value, id) order, then the rows without it (running and failed calculations) in id order, with
// `order` deciding the direction of both. Nulls come last in both orders: a listing starts with
// the values asked for. The two parts are two index ranges of (user_id, value, id) — `value is not
// null and (value, id) > cursor` and `value is null and id > cursor` — so a deep page costs what
// the first costs; one `order by value nulls last` with an OR in the condition would filter every
// row before the cursor. A cursor whose value is null continues in the second part. A page reads
// the parts in turn (keysetPartSelects); an export streams them as one statement (keysetSelect).
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
  /** The last row's sort value: created_at as iso() text, the number, or null (a row without one). */
  v: z.union([CursorField.number, CursorField.time, z.null()]),
  id: CursorField.id,
}, (p) => ((p.s === 'created_at') !== (typeof p.v === 'string') ? 'sort value does not match the sort key' : undefined));

/** A row's place in a keyset: its sort value (null for a row without one) and id. */
export interface KeysetRow {
  v: number | string | null;
  id: string;
}

export interface Keyset {
  sort: SortKey;
  order: Order;
  /** Continue strictly after this row... */
  after?: KeysetRow;
  /** ...and stop at this one, inclusive (an export's last row). */
  through?: KeysetRow;
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
export const cursorAfter = (k: Keyset, last: KeysetRow): string =>
  calculationCursor.encode({ s: k.sort, o: k.order, v: last.v, id: last.id });

const sortValue = (tx: Tx, k: Keyset, v: number | string) =>
  k.sort === 'created_at' ? tx`${v as string}::text::timestamptz` : tx`${v as number}::float8`;

/** `key` strictly after a row (the cursor), or up to it inclusive (an export's last row), in the keyset's direction. */
function beyond(tx: Tx, k: Keyset, key: Fragment, row: KeysetRow, inclusive: boolean): Fragment {
  const at = row.v === null ? tx`${row.id}::uuid` : tx`(${sortValue(tx, k, row.v)}, ${row.id}::uuid)`;
  const op = k.order === 'asc' ? (inclusive ? tx`<=` : tx`>`) : (inclusive ? tx`>=` : tx`<`);
  return tx`${key} ${op} ${at}`;
}

/** One part of a keyset listing: rows that one index range returns in order. */
interface Segment {
  /** 0 for the rows with a sort value, 1 for those without. */
  part: 0 | 1;
  where: Fragment;
  /** The sort value's column in this part: the column, or null. */
  value: Fragment;
  order: Fragment;
}

/** The parts of the keyset still to list, in order (see the header). */
function segments(tx: Tx, k: Keyset): Segment[] {
  const col = tx`c.${tx(SORT_COLUMNS[k.sort])}`;
  const dir = k.order === 'asc' ? tx`asc` : tx`desc`;
  const out: Segment[] = [];
  // The part of the rows with a value: not when the cursor is already past it.
  if (k.after?.v !== null) {
    const w: Fragment[] = k.sort === 'created_at' ? [] : [tx`${col} is not null`];
    if (k.after) w.push(beyond(tx, k, tx`(${col}, c.id)`, k.after, false));
    if (k.through && k.through.v !== null) w.push(beyond(tx, k, tx`(${col}, c.id)`, k.through, true));
    out.push({ part: 0, where: and(tx, w), value: col, order: tx`${col} ${dir}, c.id ${dir}` });
  }
  // The rows without a value: not for created_at (never null), nor when the export ends before them.
  if (k.sort !== 'created_at' && (k.through === undefined || k.through.v === null)) {
    const w: Fragment[] = [tx`${col} is null`];
    if (k.after?.v === null) w.push(beyond(tx, k, tx`c.id`, k.after, false));
    if (k.through?.v === null) w.push(beyond(tx, k, tx`c.id`, k.through, true));
    out.push({ part: 1, where: and(tx, w), value: tx`null::float8`, order: tx`c.id ${dir}` });
  }
  return out;
}

/**
 * The keyset's rows that pass `where` (a condition on `c` and `m`), as a relation of
 * (id, part, v) to join by id and order by keysetOrder(): each part one ordered index range,
 * at most `limit` rows of each.
 */
export function keysetIds(tx: Tx, k: Keyset, where: Fragment, limit?: number): Fragment {
  const parts = segments(tx, k).map((s) => tx`(
    select c.id, ${s.part}::int as part, ${s.value} as v
      from ${fromCalculations(tx)}
     where ${where} and ${s.where}
     order by ${s.order}
     ${limit === undefined ? tx`` : tx`limit ${limit}`})`);
  return parts.length === 1 ? parts[0] : tx`(${parts[0]} union all ${parts[1]})`;
}

/** The order of keysetIds' rows, `p` being its alias. */
export function keysetOrder(tx: Tx, k: Keyset): Fragment {
  const dir = k.order === 'asc' ? tx`asc` : tx`desc`;
  return tx`p.part, p.v ${dir}, p.id ${dir}`;
}

interface SelectOptions {
  columns: Fragment;
  where: Fragment;
  /** A lateral join after `calculations c join molecules m`. */
  extra?: Fragment;
  limit?: number;
}

/**
 * One ordered select per part still to list, for callers that read the parts one after another
 * (a page stops at the first part that fills it, so the second costs nothing until it is reached).
 */
export function keysetPartSelects(tx: Tx, k: Keyset, o: SelectOptions): Fragment[] {
  return segments(tx, k).map((part) => tx`
    select ${o.columns} from ${fromCalculations(tx)} ${o.extra ?? tx``}
     where ${o.where} and ${part.where}
     order by ${part.order} ${o.limit === undefined ? tx`` : tx`limit ${o.limit}`}`);
}

/**
 * `select <columns>` of the keyset's rows in order, as one statement (what a server-side cursor
 * streams). One part (created_at, or a cursor already among the rows without a value) is a plain
 * ordered select that streams from its index; two parts are keysetIds joined back by id.
 */
export function keysetSelect(tx: Tx, k: Keyset, o: SelectOptions): Fragment {
  const parts = keysetPartSelects(tx, k, o);
  if (parts.length === 1) return parts[0];
  return tx`
    select ${o.columns}
      from ${keysetIds(tx, k, o.where, o.limit)} p
      join (${fromCalculations(tx)} ${o.extra ?? tx``}) on c.id = p.id
     order by ${keysetOrder(tx, k)} ${o.limit === undefined ? tx`` : tx`limit ${o.limit}`}`;
}

/** The sort value as a cursor stores it: created_at as its exact ISO text, else the number (or null). */
export const cursorValue = (tx: Tx, k: Keyset, v: Fragment): Fragment =>
  k.sort === 'created_at' ? iso(tx, v) : v;

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
