// Typed calls of the batches function over QfClient (which retries 503s and network errors), with
// the contract's types. Runners use claim → heartbeat → complete | fail; owners create, watch,
// cancel and retry.
//
// Retries and idempotency:
// - claim: a retried claim whose first response was lost leaves those items claimed by this runner
//   until their lease expires; nothing is done twice (they are then claimed again, and the lost
//   attempt is recorded as `lease_expired`). Keep leases short enough that this costs little.
// - complete, completeMany and fail: the server recognises the same runner reporting the same outcome again
//   (`already_completed`, `already_recorded`), so a retry after a lost response is harmless.
// - heartbeat, cancel, retry: repeating them is harmless.
// - create and addItems: NOT idempotent; a retry after a lost response could write the items twice,
//   so they are sent once (`retry: false`) and a network failure is left to the caller.
import type { QfClient } from './client.ts';
import type {
  AddItemsRequest, BatchActionRequest, CancelResponse, ClaimRequest, ClaimResponse, CompleteRequest, CompleteResponse,
  CompleteManyRequest, CompleteManyResponse, CreateBatchRequest, CreateBatchResponse, DeleteBatchQuery, DeleteBatchResponse, FailRequest, FailResponse, GetBatchQuery, GetBatchResponse,
  HeartbeatRequest, HeartbeatResponse, ListBatchesQuery, ListBatchesResponse, RetryResponse,
} from './contract/batches.ts';

const batchPath = (id: string, rest = '') => `batches/${encodeURIComponent(id)}${rest}`;

export function createBatch(client: QfClient, req: CreateBatchRequest): Promise<CreateBatchResponse> {
  return client.call<CreateBatchResponse>('batches', { method: 'POST', body: req, retry: false });
}

/** More items for a batch (at most 10,000 per call); like create, sent once. */
export function addItems(client: QfClient, id: string, req: AddItemsRequest): Promise<CreateBatchResponse> {
  return client.call<CreateBatchResponse>(batchPath(id, '/items'), { method: 'POST', body: req, retry: false });
}

export function listBatches(client: QfClient, q: ListBatchesQuery = {}): Promise<ListBatchesResponse> {
  return client.call<ListBatchesResponse>('batches', { method: 'GET', query: q });
}

export function getBatch(client: QfClient, id: string, q: GetBatchQuery = {}): Promise<GetBatchResponse> {
  return client.call<GetBatchResponse>(batchPath(id), { method: 'GET', query: q });
}

/** Every item of a batch, following the cursor. */
export async function getAllItems(client: QfClient, id: string, q: Omit<GetBatchQuery, 'cursor'> = {}): Promise<GetBatchResponse['items']> {
  const items: GetBatchResponse['items'] = [];
  let cursor: string | undefined;
  do {
    const page = await getBatch(client, id, { ...q, cursor, limit: q.limit ?? 1000 });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

/**
 * Claims up to `limit` items. Retried on 503 and network errors like every call: a claim whose
 * response was lost is not lost work, its items come back when their lease expires.
 */
export function claim(client: QfClient, req: ClaimRequest): Promise<ClaimResponse> {
  return client.call<ClaimResponse>('batches/claim', { method: 'POST', body: req });
}

export function heartbeat(client: QfClient, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  return client.call<HeartbeatResponse>('batches/heartbeat', { method: 'POST', body: req });
}

export function complete(client: QfClient, req: CompleteRequest): Promise<CompleteResponse> {
  return client.call<CompleteResponse>('batches/complete', { method: 'POST', body: req });
}

/** Several results of one runner in one transaction; each item gets its own outcome. */
export function completeMany(client: QfClient, req: CompleteManyRequest): Promise<CompleteManyResponse> {
  return client.call<CompleteManyResponse>('batches/complete-many', { method: 'POST', body: req });
}

export function fail(client: QfClient, req: FailRequest): Promise<FailResponse> {
  return client.call<FailResponse>('batches/fail', { method: 'POST', body: req });
}

export function cancel(client: QfClient, id: string, req: BatchActionRequest = {}): Promise<CancelResponse> {
  return client.call<CancelResponse>(batchPath(id, '/cancel'), { method: 'POST', body: req });
}

export function retry(client: QfClient, id: string, req: BatchActionRequest = {}): Promise<RetryResponse> {
  return client.call<RetryResponse>(batchPath(id, '/retry'), { method: 'POST', body: req });
}

/** Deletes a finished or cancelled batch and its items; the calculations they produced stay. */
export function deleteBatch(client: QfClient, id: string, scope: DeleteBatchQuery = {}): Promise<DeleteBatchResponse> {
  return client.call<DeleteBatchResponse>(batchPath(id), { method: 'DELETE', query: scope });
}
