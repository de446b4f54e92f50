// Typed client calls for correcting and removing data (routes on the ingest function).
import type { QfClient } from './client.ts';
import type {
  BulkDeleteBody, BulkDeleteResponse, DeleteMoleculeResponse, PatchCalculationBody, PatchMoleculeBody,
} from './contract/manage.ts';

const query = (params: Record<string, string | boolean | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][];
  return entries.length ? '?' + new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString() : '';
};

export const patchMolecule = (client: QfClient, id: string, body: PatchMoleculeBody) =>
  client.call<Record<string, unknown>>(`ingest/molecules/${id}`, { method: 'PATCH', body });

export const patchCalculation = (client: QfClient, id: string, body: PatchCalculationBody) =>
  client.call<Record<string, unknown>>(`ingest/calculations/${id}`, { method: 'PATCH', body });

export const deleteCalculation = (client: QfClient, id: string, opts: { userId?: string } = {}) =>
  client.call<{ deleted: { calculations: number; atoms: number; molecules: number } }>(
    `ingest/calculations/${id}${query({ user_id: opts.userId })}`, { method: 'DELETE' });

export const deleteMolecule = (client: QfClient, id: string, opts: { userId?: string; force?: boolean } = {}) =>
  client.call<DeleteMoleculeResponse>(`ingest/molecules/${id}${query({ user_id: opts.userId, force: opts.force })}`, { method: 'DELETE' });

/** Deletes nothing unless `dry_run: false` is given. */
export const bulkDelete = (client: QfClient, body: BulkDeleteBody) =>
  client.call<BulkDeleteResponse>('ingest/delete', { method: 'POST', body });
