// The batches function's routes: batch jobs, and the runner protocol (claim, heartbeat, complete, fail).
import {
  AddItemsRequestFull, AttemptRecord, Batch, BatchActionRequest, BatchItem, BatchProgress, CancelResponse, ClaimedItem,
  ClaimRequest, ClaimResponse, CompleteManyRequestFull, CompleteManyResponse, CompleteRequestFull, CompleteResponse,
  CreateBatchItem, CreateBatchRequestFull, CreateBatchResponse, DeleteBatchQuery, DeleteBatchResponse, FailRequest,
  FailResponse, GetBatchQuery, GetBatchResponse, HeartbeatRequest, HeartbeatResponse, ListBatchesQuery,
  ListBatchesResponse, RetryResponse,
} from '../../contract/batches.ts';
import { IngestCalculation } from '../../contract/ingest.ts';
import { QcSchemaAtomicResult } from '../../contract/qcschema.ts';
import { route, type FunctionApi } from '../route-table.ts';

export const batchesApi: FunctionApi = {
  name: 'batches',
  description: 'Batch jobs that runners claim under leases, with retries, attempt history and live progress.',
  auth: 'caller',
  components: { Batch, BatchProgress, BatchItem, AttemptRecord, CreateBatchItem, ClaimedItem, IngestCalculation, QcSchemaAtomicResult },
  routes: [
    route('GET /', 'listBatches', "The caller's batches, newest first, keyset-paged", { query: ListBatchesQuery, ok: { ListBatchesResponse } }),
    route('POST /', 'createBatch', 'Create a batch of up to 10,000 items (SMILES or existing molecules)', {
      body: { CreateBatchRequest: CreateBatchRequestFull }, created: { CreateBatchResponse },
    }),
    route('POST /claim', 'claimItems', 'Claim pending items under a lease (highest priority first, then oldest)', {
      body: { ClaimRequest }, ok: { ClaimResponse }, errors: [404],
    }),
    route('POST /heartbeat', 'heartbeatItems', "Extend the leases of a runner's items; lists those it no longer holds", {
      body: { HeartbeatRequest }, ok: { HeartbeatResponse }, errors: [404],
    }),
    route('POST /complete', 'completeItem', "Store an item's result and complete it", {
      body: { CompleteRequest: CompleteRequestFull }, ok: { CompleteResponse }, errors: [404, 409],
    }),
    route('POST /complete-many', 'completeMany', 'Several results of one runner in one transaction, each with its own outcome', {
      body: { CompleteManyRequest: CompleteManyRequestFull }, ok: { CompleteManyResponse },
    }),
    route('POST /fail', 'failItem', "Record an attempt's failure; the item is retried or fails for good", {
      body: { FailRequest }, ok: { FailResponse }, errors: [404, 409],
    }),
    route('GET /:id', 'getBatch', 'One batch with its items (creation order, keyset-paged)', { query: GetBatchQuery, ok: { GetBatchResponse } }),
    route('DELETE /:id', 'deleteBatch', 'Delete a finished or cancelled batch and its items; their calculations stay', {
      query: DeleteBatchQuery, ok: { DeleteBatchResponse }, errors: [409],
    }),
    route('POST /:id/items', 'addBatchItems', 'Add items to a batch, checked and counted as at creation', {
      body: { AddItemsRequest: AddItemsRequestFull }, created: { AddItemsResponse: CreateBatchResponse }, errors: [409],
    }),
    route('POST /:id/cancel', 'cancelBatch', 'Cancel a pending or running batch', {
      body: { BatchActionRequest }, bodyOptional: true, ok: { CancelResponse }, errors: [409],
    }),
    route('POST /:id/retry', 'retryBatch', 'Send failed items back to pending with fresh attempts', {
      body: { BatchActionRequest }, bodyOptional: true, ok: { RetryResponse }, errors: [409],
    }),
  ],
};
