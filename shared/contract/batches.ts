// The batches contract: batch jobs that runners claim under leases, with retries, history and
// live progress. Routes live under /functions/v1/batches; every request and response is here, and
// every type is the z.input (requests) or z.output (responses) of its schema.
//
// Where the server checks items one by one (so that each error names its item, `items[3].smiles`),
// `X` is the envelope it parses first, items kept opaque, and `XFull` the request as clients send
// it, with each item's schema: the type `X` is `z.input<typeof XFull>`.
import { z } from 'zod';
import {
  ErrorDetail, Geometry, Metadata, Method, MAX_SMILES_LENGTH, Solvent, Tags, Task, Uuid, type QueryParams,
} from './common.ts';
import { IngestItem } from './ingest.ts';
import { pageOf } from './query.ts';

// ---------------------------------------------------------------------------------------------
// Statuses, error classes and limits

export const BATCH_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export const ITEM_STATUSES = ['pending', 'claimed', 'completed', 'failed', 'cancelled'] as const;
export const BatchStatus = z.enum(BATCH_STATUSES);
export const ItemStatus = z.enum(ITEM_STATUSES);
export type BatchStatus = z.output<typeof BatchStatus>;
export type ItemStatus = z.output<typeof ItemStatus>;

/**
 * Why an attempt failed, as a runner reports it. Only `invalid_input` is never retried: the SQL
 * that records a failure decides, and answers the item's status (FailResponse).
 */
export const ERROR_CLASSES = ['scf_not_converged', 'opt_not_converged', 'timeout', 'crash', 'invalid_input'] as const;
export const ErrorClass = z.enum(ERROR_CLASSES);
export type ErrorClass = z.output<typeof ErrorClass>;

/**
 * How an attempt ended: `claimed` while it runs, then `completed`, one of the error classes,
 * `lease_expired` (the runner stopped answering) or `cancelled` (the batch was cancelled meanwhile).
 */
export const ATTEMPT_OUTCOMES = ['claimed', 'completed', ...ERROR_CLASSES, 'lease_expired', 'cancelled'] as const;
export const AttemptOutcome = z.enum(ATTEMPT_OUTCOMES);

export const BATCH_LIMITS = {
  maxItemsPerBatch: 10_000,
  claimLimit: { min: 1, max: 100, default: 10 },
  leaseSeconds: { min: 30, max: 3600, default: 300 },
  maxHeartbeatItems: 1000,
  maxAttempts: { min: 1, max: 100, default: 3 },
  priority: { min: -1000, max: 1000 },
  listLimit: { max: 200, default: 50 },
  itemPageLimit: { max: 1000, default: 100 },
} as const;

// ---------------------------------------------------------------------------------------------
// xtb_args: the few xtb options a batch may set, checked at creation; the runner appends them.

/** Each allowed flag and the values it takes. */
export const XTB_ARG_RULES = {
  /** SCC iterations (xtb default 250). */
  '--iterations': { kind: 'int', min: 1, max: 10_000 },
  /** Optimisation cycles. */
  '--cycles': { kind: 'int', min: 1, max: 100_000 },
  /** Accuracy factor (xtb accepts 0.0001 to 1000). */
  '--acc': { kind: 'number', min: 0.0001, max: 1000 },
  /** Electronic temperature in K. */
  '--etemp': { kind: 'number', min: 1, max: 100_000 },
} as const;
export type XtbFlag = keyof typeof XTB_ARG_RULES;
export const XTB_FLAGS = Object.keys(XTB_ARG_RULES) as XtbFlag[];

const NUMBER_TEXT = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * xtb options as argv words, e.g. `["--iterations", "1", "--acc", "0.01"]`: each flag once, from
 * the whitelist, followed by its value. Numbers may be sent as JSON numbers; they are stored as text.
 */
export const XtbArgs = z.array(z.union([z.string().max(32), z.number()]).transform(String)).max(2 * XTB_FLAGS.length)
  .superRefine((words, ctx) => {
    const seen = new Set<string>();
    for (let i = 0; i < words.length; i += 2) {
      const flag = words[i];
      const rule = (XTB_ARG_RULES as Record<string, { kind: string; min: number; max: number }>)[flag];
      if (!rule) {
        ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(flag)} is not allowed; xtb_args may hold only ${XTB_FLAGS.join(', ')}` });
        return;
      }
      if (seen.has(flag)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `${flag} is given twice` });
        return;
      }
      seen.add(flag);
      const value = words[i + 1];
      const n = Number(value);
      const ok = value !== undefined && NUMBER_TEXT.test(value) && n >= rule.min && n <= rule.max &&
        (rule.kind === 'number' || Number.isInteger(n));
      if (!ok) {
        ctx.addIssue({
          code: 'custom', path: [i + 1],
          message: `${flag} needs ${rule.kind === 'int' ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}`,
        });
        return;
      }
    }
  });
export type XtbArgs = z.output<typeof XtbArgs>;

// ---------------------------------------------------------------------------------------------
// Whose rows: a user token works on its own rows. The service-role key says so explicitly, with
// `user_id` (runs as that user under row-level security) or `all_users: true` (runs as
// service_role, which bypasses it).

export const ScopeFields = {
  user_id: Uuid.optional(),
  all_users: z.boolean().optional(),
};
const ScopeQueryFields = {
  user_id: Uuid.optional(),
  all_users: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
};

const RunnerId = z.string().trim().min(1).max(200).regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'printable ASCII, not starting with a space');
const LeaseSeconds = z.number().int()
  .min(BATCH_LIMITS.leaseSeconds.min, `at least ${BATCH_LIMITS.leaseSeconds.min} seconds`)
  .max(BATCH_LIMITS.leaseSeconds.max, `at most ${BATCH_LIMITS.leaseSeconds.max} seconds`);

// ---------------------------------------------------------------------------------------------
// POST /batches — create a batch

/** One item: a SMILES (canonicalised and de-duplicated as ingest does) or an existing molecule. */
export const CreateBatchItem = z.object({
  smiles: z.string().trim().min(1).max(MAX_SMILES_LENGTH, `at most ${MAX_SMILES_LENGTH} characters`).optional(),
  molecule_id: Uuid.optional(),
  name: z.string().max(500).nullish(),
  charge: z.number().int().min(-20).max(20).default(0),
  multiplicity: z.number().int().min(1).max(20).default(1),
  /** Input geometry in Ångström; without one the runner generates it from the SMILES. */
  geometry: Geometry.nullish(),
}).strict().superRefine((item, ctx) => {
  if ((item.smiles === undefined) === (item.molecule_id === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['smiles'], message: 'give exactly one of smiles or molecule_id' });
  }
});
export type CreateBatchItemInput = z.input<typeof CreateBatchItem>;
export type CreateBatchItem = z.output<typeof CreateBatchItem>;

export const CreateBatchRequest = z.object({
  /** Required with the service-role key: the user the batch belongs to. */
  user_id: Uuid.optional(),
  name: z.string().trim().min(1).max(200),
  method: Method.default('GFN2-xTB'),
  task: Task.default('sp'),
  solvent: Solvent.default(null),
  max_attempts: z.number().int().min(BATCH_LIMITS.maxAttempts.min).max(BATCH_LIMITS.maxAttempts.max)
    .default(BATCH_LIMITS.maxAttempts.default),
  /** Higher is claimed first. */
  priority: z.number().int().min(BATCH_LIMITS.priority.min).max(BATCH_LIMITS.priority.max).default(0),
  tags: Tags.default([]),
  metadata: Metadata.default({}),
  xtb_args: XtbArgs.default([]),
  /** Validated one by one (`items[3].smiles`), so the envelope keeps them opaque. */
  items: z.array(z.unknown()).min(1, 'send at least one item')
    .max(BATCH_LIMITS.maxItemsPerBatch, `at most ${BATCH_LIMITS.maxItemsPerBatch} items per batch`),
}).strict();
const ItemsFull = z.array(CreateBatchItem).min(1).max(BATCH_LIMITS.maxItemsPerBatch);
export const CreateBatchRequestFull = CreateBatchRequest.extend({ items: ItemsFull });
export type CreateBatchRequest = z.input<typeof CreateBatchRequestFull>;

/** POST /batches/:id/items: more items for a batch, checked and counted as at creation. */
export const AddItemsRequest = z.object({
  user_id: Uuid.optional(),
  items: CreateBatchRequest.shape.items,
}).strict();
export const AddItemsRequestFull = AddItemsRequest.extend({ items: ItemsFull });
export type AddItemsRequest = z.input<typeof AddItemsRequestFull>;

// ---------------------------------------------------------------------------------------------
// Batches and items as the API shows them

export const BatchProgress = z.object({
  /** Finished (completed or failed) items as a share of the items not cancelled, 0–100. */
  percent_done: z.number().nullable(),
  /**
   * Items finished per minute: those of the last 10 minutes over the time they had (10 minutes, or
   * since the batch started if later; at least 1 s), so a burst right after the start reads true.
   */
  items_per_minute: z.number().nullable(),
  /** Seconds left at that rate; null when nothing finished lately, 0 when nothing is left. */
  eta_seconds: z.number().nullable(),
  estimated_completion_at: z.string().nullable(),
});
export type BatchProgress = z.output<typeof BatchProgress>;

export const Batch = z.object({
  id: Uuid,
  user_id: Uuid,
  name: z.string(),
  status: BatchStatus,
  method: Method,
  task: Task,
  solvent: z.string().nullable(),
  max_attempts: z.number().int(),
  priority: z.number().int(),
  tags: z.array(z.string()),
  metadata: Metadata,
  xtb_args: z.array(z.string()),
  total_items: z.number().int(),
  pending_items: z.number().int(),
  claimed_items: z.number().int(),
  completed_items: z.number().int(),
  failed_items: z.number().int(),
  cancelled_items: z.number().int(),
  progress: BatchProgress,
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Batch = z.output<typeof Batch>;

export const AttemptRecord = z.object({
  /** 1-based; restarts at 1 after POST /:id/retry. */
  attempt: z.number().int().nullable(),
  runner: z.string().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  outcome: AttemptOutcome,
  error: z.string().nullable(),
});
export type AttemptRecord = z.output<typeof AttemptRecord>;

/** What an item asks to compute, as items and claimed items show it. */
const ItemInput = {
  molecule_id: Uuid,
  smiles: z.string(),
  name: z.string().nullable(),
  charge: z.number().int(),
  multiplicity: z.number().int(),
  geometry: Geometry.nullable(),
};

export const BatchItem = z.object({
  id: Uuid,
  batch_id: Uuid,
  ...ItemInput,
  /** Null (with smiles) once the molecule was deleted: only a finished item outlives it. */
  molecule_id: Uuid.nullable(),
  smiles: z.string().nullable(),
  status: ItemStatus,
  /** Claims in the current round (POST /:id/retry starts a new one at 0); at the batch's max_attempts it fails. */
  attempts: z.number().int(),
  /**
   * Claims ever, across retries. At the server's attempt limit (20 unless the database sets
   * qf.max_item_attempts) the item fails for good and POST /:id/retry leaves it failed.
   */
  total_attempts: z.number().int(),
  claimed_by: z.string().nullable(),
  lease_expires_at: z.string().nullable(),
  calculation_id: Uuid.nullable(),
  last_error: z.string().nullable(),
  /** The last 10 attempts, oldest first; total_attempts counts them all. */
  attempt_history: z.array(AttemptRecord),
  completed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type BatchItem = z.output<typeof BatchItem>;

/** The answer to POST /batches and POST /batches/:id/items. */
export const CreateBatchResponse = z.object({
  batch: Batch,
  counts: z.object({
    items: z.number().int(),
    /** Distinct molecules the items refer to. */
    molecules: z.number().int(),
    /** Of those, molecules this request added to the user's molecules. */
    molecules_created: z.number().int(),
  }),
});
export type CreateBatchResponse = z.output<typeof CreateBatchResponse>;

// ---------------------------------------------------------------------------------------------
// GET /batches and GET /batches/:id

/** A listing's query: whose rows, a status, and a keyset page. */
const listQuery = <S extends z.ZodType>(status: S, limit: { max: number; default: number }) => z.object({
  ...ScopeQueryFields,
  status: status.optional(),
  limit: z.coerce.number().int().min(1).max(limit.max).default(limit.default),
  cursor: z.string().max(200).optional(),
}).strict();

export const ListBatchesQuery = listQuery(BatchStatus, BATCH_LIMITS.listLimit);
/** The query as a client gives it (the client writes the values as text). */
export type ListBatchesQuery = QueryParams<typeof ListBatchesQuery>;

/** The paged envelope of every listing: `data` and `next_cursor`. */
export const ListBatchesResponse = pageOf(Batch);
export type ListBatchesResponse = z.output<typeof ListBatchesResponse>;

export const GetBatchQuery = listQuery(ItemStatus, BATCH_LIMITS.itemPageLimit);
export type GetBatchQuery = QueryParams<typeof GetBatchQuery>;

export const GetBatchResponse = z.object({
  batch: Batch,
  /** In creation order. */
  items: z.array(BatchItem),
  next_cursor: z.string().nullable(),
});
export type GetBatchResponse = z.output<typeof GetBatchResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/claim

export const ClaimRequest = z.object({
  ...ScopeFields,
  runner_id: RunnerId,
  limit: z.number().int().min(BATCH_LIMITS.claimLimit.min).max(BATCH_LIMITS.claimLimit.max)
    .default(BATCH_LIMITS.claimLimit.default),
  lease_seconds: LeaseSeconds.default(BATCH_LIMITS.leaseSeconds.default),
  batch_id: Uuid.optional(),
  methods: z.array(Method).min(1).optional(),
}).strict();
export type ClaimRequest = z.input<typeof ClaimRequest>;

/** Everything a runner needs to run one item. */
export const ClaimedItem = z.object({
  item_id: Uuid,
  batch_id: Uuid,
  /** The owner; the calculation is stored as theirs. */
  user_id: Uuid,
  ...ItemInput,
  method: Method,
  task: Task,
  solvent: z.string().nullable(),
  xtb_args: z.array(z.string()),
  /** 1 for the first attempt. */
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  lease_expires_at: z.string(),
});
export type ClaimedItem = z.output<typeof ClaimedItem>;

export const ClaimResponse = z.object({
  runner_id: z.string(),
  /**
   * Highest priority first, then oldest; empty when nothing is claimable. Across users
   * (`all_users`) the items are dealt in turns per user, priority ordering each user's own.
   */
  items: z.array(ClaimedItem),
});
export type ClaimResponse = z.output<typeof ClaimResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/heartbeat

export const HeartbeatRequest = z.object({
  ...ScopeFields,
  runner_id: RunnerId,
  item_ids: z.array(Uuid).min(1).max(BATCH_LIMITS.maxHeartbeatItems),
  lease_seconds: LeaseSeconds.default(BATCH_LIMITS.leaseSeconds.default),
}).strict();
export type HeartbeatRequest = z.input<typeof HeartbeatRequest>;

/** Why a runner no longer holds an item: stop working on it (a cancelled one may still be completed). */
export const LOST_REASONS = ['claimed_by_another_runner', 'completed', 'failed', 'returned_to_pending', 'batch_cancelled'] as const;

export const HeartbeatResponse = z.object({
  held: z.array(z.object({ item_id: Uuid, lease_expires_at: z.string() })),
  lost: z.array(z.object({ item_id: Uuid, status: ItemStatus, reason: z.enum(LOST_REASONS) })),
});
export type HeartbeatResponse = z.output<typeof HeartbeatResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/complete

export const CompleteRequest = z.object({
  ...ScopeFields,
  item_id: Uuid,
  runner_id: RunnerId,
  /**
   * The result in the ingest format (native or QCSchema), status `completed`. Its molecule, method,
   * task, solvent, charge and multiplicity must be the item's; batch_item_id, if set, the item's id.
   */
  result: z.record(z.string(), z.unknown()),
}).strict();
export const CompleteRequestFull = CompleteRequest.extend({ result: IngestItem });
export type CompleteRequest = z.input<typeof CompleteRequestFull>;

export const CompleteResponse = z.object({
  item_id: Uuid,
  status: z.literal('completed'),
  calculation_id: Uuid,
  molecule_id: Uuid,
  /** What storing the calculation did, as ingest reports it. */
  outcome: z.enum(['created', 'updated', 'duplicate']),
  /** True when this runner had already completed the item (a retried request): nothing was written. */
  already_completed: z.boolean(),
});
export type CompleteResponse = z.output<typeof CompleteResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/complete-many: several results of one runner in one transaction (fewer commits
// under load). Each item gets its own outcome, as ingest gives each calculation its own.

export const COMPLETE_MANY_MAX = 100;

const completeMany = <R extends z.ZodType>(result: R) => z.object({
  ...ScopeFields,
  runner_id: RunnerId,
  items: z.array(z.object({ item_id: Uuid, result }).strict())
    .min(1).max(COMPLETE_MANY_MAX, `at most ${COMPLETE_MANY_MAX} items per request`),
}).strict().superRefine((req, ctx) => {
  const seen = new Set<string>();
  req.items.forEach((it, i) => {
    const id = it.item_id.toLowerCase();
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['items', i, 'item_id'], message: 'is given twice' });
    seen.add(id);
  });
});
export const CompleteManyRequest = completeMany(CompleteRequest.shape.result);
export const CompleteManyRequestFull = completeMany(IngestItem);
export type CompleteManyRequest = z.input<typeof CompleteManyRequestFull>;

/**
 * completed: stored and linked now. already_completed: this runner had completed it (a retry).
 * not_found: unknown or not the caller's. not_held: another runner holds it, or it is finished.
 * invalid: the result is not valid, or not a result of this item (see errors).
 */
export const COMPLETE_OUTCOMES = ['completed', 'already_completed', 'not_found', 'not_held', 'invalid'] as const;
export const CompleteOutcome = z.enum(COMPLETE_OUTCOMES);

export const CompleteManyResponse = z.object({
  results: z.array(z.object({
    item_id: Uuid,
    outcome: CompleteOutcome,
    /** The item's status after the request (null when not found). */
    status: ItemStatus.nullable(),
    calculation_id: Uuid.nullable(),
    molecule_id: Uuid.nullable(),
    /** What storing the calculation did, as ingest reports it; null unless completed now. */
    stored: z.enum(['created', 'updated', 'duplicate']).nullable(),
    errors: z.array(ErrorDetail).optional(),
  })),
  counts: z.record(CompleteOutcome, z.number().int()),
});
export type CompleteManyResponse = z.output<typeof CompleteManyResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/fail

export const FailRequest = z.object({
  ...ScopeFields,
  item_id: Uuid,
  runner_id: RunnerId,
  error_class: ErrorClass,
  message: z.string().trim().min(1).max(10_000),
}).strict();
export type FailRequest = z.input<typeof FailRequest>;

export const FailResponse = z.object({
  item_id: Uuid,
  /** pending: it will be retried; failed: for good; cancelled: its batch was cancelled meanwhile. */
  status: z.enum(['pending', 'failed', 'cancelled']),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  /** True when this exact failure was already recorded (a retried request): nothing was written. */
  already_recorded: z.boolean(),
});
export type FailResponse = z.output<typeof FailResponse>;

// ---------------------------------------------------------------------------------------------
// POST /batches/:id/cancel and POST /batches/:id/retry (the body is optional for user tokens)

export const BatchActionRequest = z.object({ ...ScopeFields }).strict();
export type BatchActionRequest = z.input<typeof BatchActionRequest>;

export const CancelResponse = z.object({
  batch: Batch,
  /** Items this request cancelled (pending ones, and claimed ones whose runner may still finish). */
  cancelled_items: z.number().int(),
  already_cancelled: z.boolean(),
});
export type CancelResponse = z.output<typeof CancelResponse>;

export const RetryResponse = z.object({
  batch: Batch,
  /** Failed items sent back to pending with fresh attempts. */
  retried_items: z.number().int(),
  /**
   * Failed items left failed for good: they had the attempt limit in all (their last_error says
   * so). When every failed item is such, the answer is 409 `conflict` instead.
   */
  exhausted_items: z.number().int(),
});
export type RetryResponse = z.output<typeof RetryResponse>;

// ---------------------------------------------------------------------------------------------
// DELETE /batches/:id — a finished or cancelled batch and its items; their calculations stay.

export const DeleteBatchQuery = z.object({ ...ScopeQueryFields }).strict();
export type DeleteBatchQuery = QueryParams<typeof DeleteBatchQuery>;
export const DeleteBatchResponse = z.object({
  deleted: z.object({ batches: z.number().int(), items: z.number().int() }),
});
export type DeleteBatchResponse = z.output<typeof DeleteBatchResponse>;
