// Reports one finished item through the typed batches client: `complete` with the parsed
// calculation, or `fail` with its error class. A result the server refuses as invalid is reported
// as a crash, so the item does not sit claimed until its lease runs out; one it says this runner no
// longer holds is dropped (another runner has it). The client already retries network errors.
import { QfApiError, type QfClient } from '../../shared/client.ts';
import * as batches from '../../shared/client-batches.ts';
import type {
  ClaimedItem, ClaimRequest, ClaimResponse, CompleteRequest, CompleteResponse, ErrorClass, FailRequest, FailResponse,
  HeartbeatRequest, HeartbeatResponse,
} from '../../shared/contract/batches.ts';
import type { ItemRun } from './run-item.ts';

/** The four calls a runner makes; tests may stand in for the server. */
export interface BatchesApi {
  claim(req: ClaimRequest): Promise<ClaimResponse>;
  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse>;
  complete(req: CompleteRequest): Promise<CompleteResponse>;
  fail(req: FailRequest): Promise<FailResponse>;
}

export function batchesApi(client: QfClient): BatchesApi {
  return {
    claim: (req) => batches.claim(client, req),
    heartbeat: (req) => batches.heartbeat(client, req),
    complete: (req) => batches.complete(client, req),
    fail: (req) => batches.fail(client, req),
  };
}

export type ItemOutcome =
  | { kind: 'completed'; calculationId: string }
  /** `status`: pending (will be retried), failed (for good) or cancelled. */
  | { kind: 'failed'; errorClass: ErrorClass; status: FailResponse['status']; message: string }
  /** No longer ours: the lease was lost, or the server says another runner holds it. */
  | { kind: 'lost'; reason: string }
  /** Stopped by a second signal; the lease will expire. */
  | { kind: 'stopped' }
  /** The server could not be told (network, 5xx after retries); the lease will expire. */
  | { kind: 'not_reported'; reason: string };

export interface ReportContext {
  api: BatchesApi;
  runnerId: string;
  allUsers: boolean;
}

const MAX_MESSAGE = 10_000;
const describe = (err: unknown) => (err instanceof QfApiError ? `HTTP ${err.status}: ${err.message}` : (err as Error)?.message ?? String(err));

async function sendFail(ctx: ReportContext, item: ClaimedItem, errorClass: ErrorClass, message: string): Promise<ItemOutcome> {
  const text = message.trim().slice(0, MAX_MESSAGE) || errorClass;
  try {
    const res = await ctx.api.fail({
      item_id: item.item_id, runner_id: ctx.runnerId, error_class: errorClass, message: text,
      ...(ctx.allUsers ? { all_users: true } : {}),
    });
    return { kind: 'failed', errorClass, status: res.status, message: text };
  } catch (err) {
    if (err instanceof QfApiError && err.status === 409) return { kind: 'lost', reason: `not held when failing it (${err.message})` };
    return { kind: 'not_reported', reason: `fail ${errorClass}: ${describe(err)}` };
  }
}

export async function reportItem(ctx: ReportContext, item: ClaimedItem, run: ItemRun, lostReason?: string): Promise<ItemOutcome> {
  if (run.kind === 'abandoned') return lostReason ? { kind: 'lost', reason: lostReason } : { kind: 'stopped' };
  if (run.kind === 'failed') return sendFail(ctx, item, run.error_class, run.message);
  try {
    const res = await ctx.api.complete({
      item_id: item.item_id, runner_id: ctx.runnerId, result: run.calculation,
      ...(ctx.allUsers ? { all_users: true } : {}),
    });
    return { kind: 'completed', calculationId: res.calculation_id };
  } catch (err) {
    if (err instanceof QfApiError && err.status === 409) return { kind: 'lost', reason: `not held when completing it (${err.message})` };
    if (err instanceof QfApiError && (err.status === 400 || err.status === 422)) {
      return sendFail(ctx, item, 'crash', `the server refused the parsed result (${describe(err)})`);
    }
    return { kind: 'not_reported', reason: `complete: ${describe(err)}` };
  }
}
