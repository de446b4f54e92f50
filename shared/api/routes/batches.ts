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
import type { FunctionApi } from '../route-table.ts';

export const batchesApi: FunctionApi = {
  name: 'batches',
  description: 'Batch jobs that runners claim under leases, with retries, attempt history and live progress.',
  auth: 'caller',
  components: { Batch, BatchProgress, BatchItem, AttemptRecord, CreateBatchItem, ClaimedItem, IngestCalculation, QcSchemaAtomicResult },
  routes: [
    {
      operationId: 'listBatches', method: 'GET', path: '/',
      summary: "The caller's batches, newest first, keyset-paged",
      query: ListBatchesQuery,
      responses: { 200: { ListBatchesResponse } },
    },
    {
      operationId: 'createBatch', method: 'POST', path: '/',
      summary: 'Create a batch of up to 10,000 items (SMILES or existing molecules)',
      body: { CreateBatchRequest: CreateBatchRequestFull },
      responses: { 201: { CreateBatchResponse } },
    },
    {
      operationId: 'claimItems', method: 'POST', path: '/claim',
      summary: 'Claim pending items under a lease (highest priority first, then oldest)',
      body: { ClaimRequest },
      responses: { 200: { ClaimResponse } },
      errors: [404],
    },
    {
      operationId: 'heartbeatItems', method: 'POST', path: '/heartbeat',
      summary: "Extend the leases of a runner's items; lists those it no longer holds",
      body: { HeartbeatRequest },
      responses: { 200: { HeartbeatResponse } },
      errors: [404],
    },
    {
      operationId: 'completeItem', method: 'POST', path: '/complete',
      summary: "Store an item's result and complete it",
      body: { CompleteRequest: CompleteRequestFull },
      responses: { 200: { CompleteResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'completeMany', method: 'POST', path: '/complete-many',
      summary: "Several results of one runner in one transaction, each with its own outcome",
      body: { CompleteManyRequest: CompleteManyRequestFull },
      responses: { 200: { CompleteManyResponse } },
    },
    {
      operationId: 'failItem', method: 'POST', path: '/fail',
      summary: "Record an attempt's failure; the item is retried or fails for good",
      body: { FailRequest },
      responses: { 200: { FailResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'getBatch', method: 'GET', path: '/:id',
      summary: 'One batch with its items (creation order, keyset-paged)',
      query: GetBatchQuery,
      responses: { 200: { GetBatchResponse } },
      errors: [404],
    },
    {
      operationId: 'deleteBatch', method: 'DELETE', path: '/:id',
      summary: 'Delete a finished or cancelled batch and its items; their calculations stay',
      query: DeleteBatchQuery,
      responses: { 200: { DeleteBatchResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'addBatchItems', method: 'POST', path: '/:id/items',
      summary: 'Add items to a batch, checked and counted as at creation',
      body: { AddItemsRequest: AddItemsRequestFull },
      responses: { 201: { AddItemsResponse: CreateBatchResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'cancelBatch', method: 'POST', path: '/:id/cancel',
      summary: 'Cancel a pending or running batch',
      body: { BatchActionRequest }, bodyOptional: true,
      responses: { 200: { CancelResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'retryBatch', method: 'POST', path: '/:id/retry',
      summary: 'Send failed items back to pending with fresh attempts',
      body: { BatchActionRequest }, bodyOptional: true,
      responses: { 200: { RetryResponse } },
      errors: [404, 409],
    },
  ],
};
