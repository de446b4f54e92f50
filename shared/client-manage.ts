// Typed client calls for correcting and removing data (routes on the ingest function).
import type { QfClient } from './client.ts';
import type {
  BulkDeleteBody, BulkDeleteResponse, DeleteCalculationResponse, DeleteEntityQuery, DeleteMoleculeResponse, PatchCalculationBody,
  PatchCalculationResponse, PatchMoleculeBody, PatchMoleculeResponse,
} from './contract/manage.ts';

const moleculePath = (id: string) => `ingest/molecules/${encodeURIComponent(id)}`;
const calculationPath = (id: string) => `ingest/calculations/${encodeURIComponent(id)}`;

export const patchMolecule = (client: QfClient, id: string, body: PatchMoleculeBody) =>
  client.call<PatchMoleculeResponse>(moleculePath(id), { method: 'PATCH', body });

export const patchCalculation = (client: QfClient, id: string, body: PatchCalculationBody) =>
  client.call<PatchCalculationResponse>(calculationPath(id), { method: 'PATCH', body });

export const deleteCalculation = (client: QfClient, id: string, query: DeleteEntityQuery = {}) =>
  client.call<DeleteCalculationResponse>(calculationPath(id), { method: 'DELETE', query });

export const deleteMolecule = (client: QfClient, id: string, query: DeleteEntityQuery = {}) =>
  client.call<DeleteMoleculeResponse>(moleculePath(id), { method: 'DELETE', query });

/** Deletes nothing unless `dry_run: false` is given. */
export const bulkDelete = (client: QfClient, body: BulkDeleteBody) =>
  client.call<BulkDeleteResponse>('ingest/delete', { method: 'POST', body });
