// SQL checks of what the batch queue stored, shared by the batches, runner and reliability tests
// (items to create and the results to post for them are in ../support/payloads.ts).
import { adminSql } from '../support/db.ts';

export interface ItemState {
  id: string;
  status: string;
  attempts: number;
  claimed_by: string | null;
  calculation_id: string | null;
  lease_expires_at: Date | null;
  attempt_history: { attempt: number | null; runner: string | null; outcome: string; error: string | null; ended_at: string | null }[];
}

export async function itemStates(batchId: string): Promise<ItemState[]> {
  return adminSql()<ItemState[]>`
    select id, status, attempts, claimed_by, calculation_id, lease_expires_at, attempt_history
      from public.batch_items where batch_job_id = ${batchId} order by seq`;
}

export async function batchRow(batchId: string) {
  const [row] = await adminSql()`select * from public.batch_jobs where id = ${batchId}`;
  return row;
}

/** The batch's trigger-kept counters next to a count(*) of its items by status. */
export async function countersAndCounts(batchId: string) {
  const [b] = await adminSql()`
    select total_items, pending_items, claimed_items, completed_items, failed_items, cancelled_items
      from public.batch_jobs where id = ${batchId}`;
  const rows = await adminSql()<{ status: string; n: number }[]>`
    select status, count(*)::int as n from public.batch_items where batch_job_id = ${batchId} group by status`;
  const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const counted = {
    total_items: rows.reduce((s, r) => s + r.n, 0),
    pending_items: by.pending ?? 0,
    claimed_items: by.claimed ?? 0,
    completed_items: by.completed ?? 0,
    failed_items: by.failed ?? 0,
    cancelled_items: by.cancelled ?? 0,
  };
  return { counters: { ...b }, counted };
}

/** Ends every live lease of a batch, as if its runners had vanished that long ago. */
export async function expireLeases(batchId: string): Promise<void> {
  await adminSql()`
    update public.batch_items set lease_expires_at = now() - interval '1 second'
     where batch_job_id = ${batchId} and status = 'claimed'`;
}

export async function batchEvents(batchId: string): Promise<string[]> {
  const rows = await adminSql()<{ event_type: string }[]>`
    select event_type from public.event_logs where entity_type = 'batch_job' and entity_id = ${batchId} order by id`;
  return rows.map((r) => r.event_type);
}
