// The SQL of a calculations selection, shared by /calculations, /molecules/:id and /export: the
// filters as one `where` fragment over `calculations c join molecules m`, the keyset order and
// condition, and the columns of a CalculationRow. Row-level security, not these clauses, limits
// the rows to the caller's: nothing here mentions user_id.
//
// Sorting by energy, gap or dipole lists only rows that have that value (running and failed
// calculations have none); sort by created_at (the default) to list every row.
import type postgres from 'postgres';
import type { CalculationFilters, Order, SortKey } from '../../../shared/contract/query.ts';
import type { Tx } from '../_shared/db.ts';
import type { Fragment } from '../_shared/calculation-filters.ts';
import { and } from '../_shared/calculation-filters.ts';
export { filterClause, resolveFilters, resolveSmiles, type Fragment, type ResolvedFilters } from '../_shared/calculation-filters.ts';
import type { CalculationCursor } from './cursor.ts';

export const SORT_COLUMNS: Record<SortKey, string> = {
  created_at: 'created_at',
  energy: 'total_energy_eh',
  gap: 'homo_lumo_gap_ev',
  dipole: 'dipole_debye',
};

/**
 * ISO 8601 in UTC with microseconds: exact (a JS Date would drop the microseconds) and sortable.
 * Times go back to SQL as `${text}::text::timestamptz`: a parameter typed timestamptz would be
 * sent through postgres.js' Date serialiser and lose its microseconds.
 */
export const iso = (tx: Tx, column: Fragment) => tx`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface Keyset {
  sort: SortKey;
  order: Order;
  /** Continue strictly after this row... */
  after?: { v: number | string; id: string };
  /** ...and stop at this one, inclusive (an export's last row). */
  through?: { v: number | string; id: string };
}

export function keysetFrom(sort: SortKey | undefined, order: Order | undefined, cursor: CalculationCursor | undefined): Keyset {
  if (cursor) return { sort: cursor.s, order: cursor.o, after: { v: cursor.v, id: cursor.id } };
  return { sort: sort ?? 'created_at', order: order ?? 'asc' };
}

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

/** The hash of the row's specification: one primary-key probe per row written, not a join of every row filtered. */
export const specificationHash = (tx: Tx): Fragment =>
  tx`(select s.spec_hash from public.specifications s where s.id = c.specification_id)`;

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
