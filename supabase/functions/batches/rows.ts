// Reading batches and items as the API shows them: one select per shape, and the mapping from
// database rows (Dates, numerics) to the contract's JSON.
import type { AttemptRecord, Batch, BatchItem } from '../../../shared/contract/batches.ts';
import type { Geometry } from '../../../shared/contract/common.ts';
import { iso } from '../_shared/cursor.ts';
import type { Tx } from '../_shared/db.ts';

const isoDate = (d: Date | string | null): string | null =>
  d === null ? null : d instanceof Date ? d.toISOString() : new Date(d).toISOString();

interface BatchRow {
  id: string; user_id: string; name: string; status: Batch['status']; method: Batch['method']; task: Batch['task'];
  solvent: string | null; max_attempts: number; priority: number; tags: string[]; metadata: Record<string, unknown>;
  xtb_args: string[]; total_items: number; pending_items: number; claimed_items: number; completed_items: number;
  failed_items: number; cancelled_items: number; percent_done: number | null; items_per_minute: number | null;
  eta_seconds: number | null; estimated_completion_at: Date | null; started_at: Date | null; completed_at: Date | null;
  created_at: Date; updated_at: Date; cursor: string;
}

export function toBatch(r: BatchRow): Batch {
  return {
    id: r.id, user_id: r.user_id, name: r.name, status: r.status, method: r.method, task: r.task, solvent: r.solvent,
    max_attempts: r.max_attempts, priority: r.priority, tags: r.tags, metadata: r.metadata, xtb_args: r.xtb_args,
    total_items: r.total_items, pending_items: r.pending_items, claimed_items: r.claimed_items,
    completed_items: r.completed_items, failed_items: r.failed_items, cancelled_items: r.cancelled_items,
    progress: {
      percent_done: r.percent_done, items_per_minute: r.items_per_minute, eta_seconds: r.eta_seconds,
      estimated_completion_at: isoDate(r.estimated_completion_at),
    },
    started_at: isoDate(r.started_at), completed_at: isoDate(r.completed_at),
    created_at: isoDate(r.created_at)!, updated_at: isoDate(r.updated_at)!,
  };
}

/**
 * Batches with their batch_progress, newest first. `after` is where an earlier page ended: its last
 * batch's created_at (as iso() text, to keep microseconds) and id, the row's `cursor` and `id`.
 */
export function selectBatches(
  tx: Tx,
  filter: { id?: string; status?: string; after?: { v: string; id: string }; limit: number },
): Promise<BatchRow[]> {
  return tx<BatchRow[]>`
    select b.id, b.user_id, b.name, b.status, b.method, b.task, b.solvent, b.max_attempts, b.priority,
           b.tags, b.metadata, b.xtb_args, b.total_items, b.pending_items, b.claimed_items,
           b.completed_items, b.failed_items, b.cancelled_items,
           p.percent_done::float8 as percent_done, p.items_per_minute::float8 as items_per_minute,
           p.eta_seconds::float8 as eta_seconds, p.estimated_completion_at,
           b.started_at, b.completed_at, b.created_at, b.updated_at,
           ${iso(tx, tx`b.created_at`)} as cursor
      from public.batch_jobs b
      join public.batch_progress p on p.batch_job_id = b.id
     where true
       ${filter.id ? tx`and b.id = ${filter.id}` : tx``}
       ${filter.status ? tx`and b.status = ${filter.status}` : tx``}
       ${filter.after ? tx`and (b.created_at, b.id) < (${filter.after.v}::text::timestamptz, ${filter.after.id}::uuid)` : tx``}
     order by b.created_at desc, b.id desc
     limit ${filter.limit}`;
}

export async function selectBatch(tx: Tx, id: string): Promise<Batch | undefined> {
  const [row] = await selectBatches(tx, { id, limit: 1 });
  return row ? toBatch(row) : undefined;
}

interface ItemRow {
  id: string; batch_id: string; molecule_id: string | null; smiles: string | null; name: string | null; charge: number;
  multiplicity: number; geometry: Geometry | null; status: BatchItem['status']; attempts: number;
  total_attempts: number; claimed_by: string | null; lease_expires_at: Date | null; calculation_id: string | null; last_error: string | null;
  attempt_history: AttemptRecord[]; completed_at: Date | null; created_at: Date; updated_at: Date; seq: string;
}

export function toItem(r: ItemRow): BatchItem {
  return {
    id: r.id, batch_id: r.batch_id, molecule_id: r.molecule_id, smiles: r.smiles, name: r.name, charge: r.charge,
    multiplicity: r.multiplicity, geometry: r.geometry, status: r.status, attempts: r.attempts,
    total_attempts: r.total_attempts, claimed_by: r.claimed_by, lease_expires_at: isoDate(r.lease_expires_at), calculation_id: r.calculation_id,
    last_error: r.last_error, attempt_history: r.attempt_history, completed_at: isoDate(r.completed_at),
    created_at: isoDate(r.created_at)!, updated_at: isoDate(r.updated_at)!,
  };
}

/** A page of a batch's items in creation order; `owner` is the batch's user (the index leads with it). */
export function selectItems(
  tx: Tx,
  filter: { owner: string; batchId: string; status?: string; afterSeq?: string; limit: number },
): Promise<ItemRow[]> {
  return tx<ItemRow[]>`
    select i.id, i.batch_job_id as batch_id, i.molecule_id, m.canonical_smiles as smiles,
           coalesce(i.name, m.name) as name, i.charge, i.multiplicity, i.input_geometry as geometry,
           i.status, i.attempts, i.total_attempts, i.claimed_by, i.lease_expires_at, i.calculation_id, i.last_error,
           i.attempt_history, i.completed_at, i.created_at, i.updated_at, i.seq::text as seq
      from public.batch_items i
      -- A finished item outlives its molecule (molecule_id null): left join.
      left join public.molecules m on m.id = i.molecule_id and m.user_id = i.user_id
     where i.user_id = ${filter.owner}
       and i.batch_job_id = ${filter.batchId}
       ${filter.status ? tx`and i.status = ${filter.status}` : tx``}
       ${filter.afterSeq ? tx`and i.seq > ${filter.afterSeq}::bigint` : tx``}
     order by i.seq
     limit ${filter.limit}`;
}
