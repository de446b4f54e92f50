// What the pages call: the typed clients of shared/, plus the one adapter the dashboard needs.
import { QfApiError } from '../../shared/client.ts';
import type { QfClient } from '../../shared/client.ts';
import { listBatches } from '../../shared/client-batches.ts';
import type { Batch, ListBatchesQuery } from '../../shared/contract/batches.ts';

export { QfApiError };

export interface BatchPage {
  batches: Batch[];
  next_cursor: string | null;
}

/**
 * GET /batches answers the paged envelope of every listing (`data`, `next_cursor`); servers
 * before that named the list `batches`. Either is read here, so the pages work with both.
 */
export function batchPage(body: unknown): BatchPage {
  const page = body as { batches?: Batch[]; data?: Batch[]; next_cursor?: string | null };
  return { batches: page.data ?? page.batches ?? [], next_cursor: page.next_cursor ?? null };
}

export async function listBatchPage(client: QfClient, q: ListBatchesQuery = {}): Promise<BatchPage> {
  return batchPage(await listBatches(client, q));
}

/** True for an answer that means the token no longer works. */
export const isUnauthorized = (err: unknown) => err instanceof QfApiError && err.status === 401;
