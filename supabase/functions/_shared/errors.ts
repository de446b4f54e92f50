// The one error shape of every function, and the one place that turns failures into responses.
// Handlers throw ApiError (or let zod / Postgres errors escape); `toErrorResponse` answers for all.
import type { ErrorBody, ErrorDetail } from '../../../shared/contract/common.ts';

export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidParameter: 'invalid_parameter',
  invalidPayload: 'invalid_payload',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  unprocessable: 'unprocessable_entity',
  unavailable: 'database_unavailable',
  authUnavailable: 'auth_unavailable',
  /** 503: every connection of this instance stayed busy (DB_ACQUIRE_TIMEOUT_MS); retry shortly. */
  busy: 'database_busy',
  /** 504: a statement ran past DB_STATEMENT_TIMEOUT_MS. The same request would too: narrow it. */
  queryTimeout: 'query_timeout',
  /** 503: the request's RDKit budget ran out before every molecule was identified; send it again. */
  identificationBudget: 'identification_budget',
  /** 429: a per-user quota of this instance is used up (the message names it); see Retry-After. */
  quotaExceeded: 'quota_exceeded',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503 | 504,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers, such as Retry-After on a 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) =>
  new ApiError(400, ErrorCode.invalidParameter, message, details);
export const notFound = (what = 'resource') => new ApiError(404, ErrorCode.notFound, `${what} not found`);
export const unauthorized = (message: string) => new ApiError(401, ErrorCode.unauthorized, message);
export const forbidden = (message: string) => new ApiError(403, ErrorCode.forbidden, message);
export const conflict = (message: string, details?: ErrorDetail[]) =>
  new ApiError(409, ErrorCode.conflict, message, details);
export const unprocessable = (message: string, details?: ErrorDetail[]) =>
  new ApiError(422, ErrorCode.unprocessable, message, details);

// SQLSTATE classes that mean "the database could not do it now; the same request may succeed later".
// Not 57014 (query_canceled, here a statement timeout): the same statement would time out again.
const RETRYABLE_SQLSTATE = /^(08|53|57P0|40001|40P01|55P03)/;
const STATEMENT_TIMEOUT = '57014';
// postgres.js' own codes for a connection that is gone or could not be made.
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND',
]);

/** True when an error says the database is unreachable or asked us to come back later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const code = String((err as { code?: unknown }).code ?? '');
  if (CONNECTION_CODES.has(code) || RETRYABLE_SQLSTATE.test(code)) return true;
  // Deno reports refused sockets as errors whose name, not code, says so.
  const name = String((err as { name?: unknown }).name ?? '');
  return name === 'ConnectionRefused' || name === 'ConnectionReset' || name === 'BrokenPipe';
}

export function errorBody(code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details?.length ? { code, message, details } : { code, message } };
}

export function jsonError(status: number, code: string, message: string, details?: ErrorDetail[], headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(errorBody(code, message, details)), {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

/** Turns anything thrown by a handler into the JSON error shape. */
export function toErrorResponse(err: unknown): Response {
  if (err instanceof ApiError) return jsonError(err.status, err.code, err.message, err.details, err.headers);
  if ((err as { code?: unknown })?.code === STATEMENT_TIMEOUT) {
    return jsonError(504, ErrorCode.queryTimeout,
      'the query took longer than the statement timeout; narrow it (more filters, a smaller limit) rather than retrying it as is');
  }
  if (isDatabaseUnavailable(err)) {
    return jsonError(503, ErrorCode.unavailable, 'the database is unavailable; retry the request');
  }
  const held = releaseHeldError(err);
  if (held) return jsonError(held.status, held.code, held.message, held.details);
  const pg = postgresClientError(err);
  if (pg) return jsonError(pg.status, pg.code, pg.message, pg.details);
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A Hono HTTPException raised by a framework helper.
    return jsonError(status, status === 404 ? ErrorCode.notFound : ErrorCode.invalidPayload, (err as Error).message);
  }
  console.error('unhandled error', err);
  return jsonError(500, ErrorCode.internal, 'internal error');
}

/**
 * SQLSTATE QF409, raised by our own SQL (migration release_functions): a calculation held by a
 * published or sealing release may not be deleted or changed, or a sealed release changed. The message is
 * ours and names the release; `detail` lists every release concerned as JSON.
 */
function releaseHeldError(err: unknown): ApiError | undefined {
  const e = err as { code?: unknown; message?: string; detail?: string };
  if (e?.code !== 'QF409') return undefined;
  let details: ErrorDetail[] = [];
  try {
    const held = JSON.parse(e.detail ?? '[]') as
      { release_id: string; dataset: string; version: number; calculation_id: string; status?: string }[];
    details = held.slice(0, 20).map((h) => ({
      path: `releases.${h.release_id}`,
      issue: `dataset ${h.dataset} release ${h.version}${h.status === 'sealing' ? ' (being sealed)' : ''} holds calculation ${h.calculation_id}`,
    }));
  } catch {
    // No detail: the message alone names the release.
  }
  return conflict(e.message ?? 'held by a release', details);
}

// Postgres errors that a client's data caused and the validation could not foresee. The client
// gets a message written here, naming the field where the error tells us which; the database's own
// text (values, types, internals) goes to the log only.

/** What a check rule named `<table>_<column>_<rule>` demands, by its last word(s). */
const RULES: [suffix: string, issue: string][] = [
  ['no_nulls', 'must not contain nulls'],
  ['nonnegative', 'must not be negative'],
  ['positive', 'must be positive'],
  ['finite', 'must be a finite number'],
  ['range', 'is out of range'],
  ['length', 'is too long or empty'],
  ['format', 'is not in the expected format'],
  ['valid', 'is not an accepted value'],
  ['object', 'must be a JSON object'],
  ['array', 'must be a JSON array'],
  ['whitelist', 'holds an option that is not allowed'],
  ['transition', 'this status change is not allowed'],
];

/** `calculations_total_energy_eh_finite` on `calculations` → field `total_energy_eh`, rule `finite`. */
function ruleOf(table: string, constraint: string): { field?: string; issue: string } {
  const rest = table && constraint.startsWith(`${table}_`) ? constraint.slice(table.length + 1) : constraint;
  if (rest === 'completed_has_energy') return { field: 'total_energy_eh', issue: 'a completed calculation needs a total energy' };
  for (const [suffix, issue] of RULES) {
    if (rest === suffix) return { issue };
    if (rest.endsWith(`_${suffix}`)) return { field: rest.slice(0, -suffix.length - 1), issue };
  }
  return { issue: 'breaks a rule of the stored data' };
}

/** Data exceptions (class 22) in our words. */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22P02': 'is not in the form its type needs',
  '22001': 'is too long',
  '22003': 'is out of range',
  '22007': 'is not a valid date or time',
  '22008': 'is not a valid date or time',
  '22023': 'is not an accepted value',
  '2201B': 'is not a valid pattern',
  '22P05': 'holds a character that cannot be stored',
};

interface PgError {
  code: string;
  message?: string;
  constraint_name?: string;
  table_name?: string;
  column_name?: string;
}

function postgresClientError(err: unknown): ApiError | undefined {
  const e = err as PgError;
  if (typeof e?.code !== 'string' || !/^(23|22)/.test(e.code)) return undefined;
  console.error('database refused the request:', JSON.stringify({
    code: e.code, constraint: e.constraint_name, table: e.table_name, column: e.column_name, message: e.message,
  }));
  const constraint = e.constraint_name ?? '';
  const table = e.table_name ?? '';
  const refused = (field: string | undefined, issue: string) =>
    unprocessable(field ? `${field}: ${issue}` : `refused by the database: a value ${issue}`, [{ path: field ?? 'request', issue }]);
  switch (e.code) {
    case '23503': {
      if (/user_id/.test(constraint)) return refused('user_id', 'no such user');
      // `<table>_<thing>_fkey` names what is referred to: calculations_molecule_fkey → molecule_id.
      const thing = table && constraint.startsWith(`${table}_`) && constraint.endsWith('_fkey')
        ? constraint.slice(table.length + 1, -'_fkey'.length)
        : undefined;
      return refused(thing ? `${thing}_id` : e.column_name, 'refers to a row that does not exist or is not yours');
    }
    case '23505':
      return conflict('conflicts with a stored row');
    case '23502':
      return refused(e.column_name, 'must not be null');
    case '23514': {
      const rule = ruleOf(table, constraint);
      return refused(e.column_name ?? rule.field, rule.issue);
    }
    default:
      return refused(e.column_name, DATA_EXCEPTIONS[e.code] ?? (e.code.startsWith('22') ? 'was refused' : 'breaks a rule of the stored data'));
  }
}
