// Shared by the batches tests: items to create, results for claimed items (as a runner would post
// them), and SQL checks of what was stored.
import type { ClaimedItem, CreateBatchItemInput } from '../../shared/contract/batches.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { adminSql } from '../support/db.ts';
import { GEOMETRIES } from '../support/payloads.ts';

const SMILES = ['O', 'C', 'CCO'] as const;

/** Item `i`: water, methane or ethanol with a geometry shifted by i, so every result is a distinct calculation. */
export function item(i: number, extra: Partial<CreateBatchItemInput> = {}): CreateBatchItemInput {
  const smiles = SMILES[i % SMILES.length];
  const shift = i * 1e-3;
  return {
    smiles,
    name: `item ${i}`,
    geometry: GEOMETRIES[smiles].map((a) => ({ element: a.element, xyz: [a.xyz[0] + shift, a.xyz[1], a.xyz[2]] as [number, number, number] })),
    ...extra,
  };
}

export const items = (n: number, from = 0) => Array.from({ length: n }, (_, k) => item(from + k));

/** A completed result for a claimed item, in the ingest format, as a runner reports it. */
export function resultFor(claimed: ClaimedItem, opts: { energy?: number } = {}): IngestCalculationInput {
  const geometry = claimed.geometry ?? GEOMETRIES[claimed.smiles as keyof typeof GEOMETRIES];
  return {
    molecule: { smiles: claimed.smiles },
    charge: claimed.charge,
    multiplicity: claimed.multiplicity,
    method: claimed.method,
    task: claimed.task,
    solvent: claimed.solvent,
    status: 'completed',
    geometry,
    results: { total_energy_eh: opts.energy ?? -5.07 - geometry[0].xyz[0] * 1e-3, homo_lumo_gap_ev: 12.1, dipole_debye: 1.9, wall_time_s: 0.01, xtb_version: '6.5.1' },
    charges: geometry.map((_, i) => (i === 0 ? -0.4 : 0.4 / (geometry.length - 1))),
  };
}

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
