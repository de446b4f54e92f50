// The typed client of the functions, over supabase-js `functions.invoke`, with the same zod types as
// the server. `ingest` splits large inputs under the server's limits and retries 503s and network
// errors with backoff: safe, because ingest is idempotent. Work the server's per-request RDKit
// budget could not reach is sent again at once: `deferred` ingest items, and any request answered
// 503 identification_budget (nothing was written; the molecules identified so far are remembered).
// The calls of the other routes are in client-batches.ts, client-query.ts and client-manage.ts,
// each over `QfClient.call`.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { ErrorBody } from './contract/common.ts';
import {
  INGEST_DEFAULT_MAX_ATOMS, INGEST_DEFAULT_MAX_BYTES, INGEST_DEFAULT_MAX_ITEMS,
  type IngestItem as IngestItemInput, type IngestItemResult, type IngestResponse,
} from './contract/ingest.ts';

export type Invoker = Pick<SupabaseClient, 'functions'>;

/** A 4xx (or a 5xx that outlived the retries) from a function, with its JSON error body. */
export class QfApiError extends Error {
  constructor(readonly status: number, readonly body: ErrorBody | undefined, message: string) {
    super(message);
    this.name = 'QfApiError';
  }
}

export interface ClientOptions {
  /** Most items per ingest request (the server refuses more than its own limit). */
  maxItemsPerRequest?: number;
  /** Approximate JSON bytes per ingest request. */
  maxBytesPerRequest?: number;
  /** Atoms (geometry lengths) per ingest request: the server defers what comes after its limit. */
  maxAtomsPerRequest?: number;
  /** Attempts per request for 503s and network errors. */
  attempts?: number;
  /** First backoff in ms; doubles each attempt, with jitter. */
  backoffMs?: number;
  /** Called before each retry, e.g. to count retries in a test or log them. */
  onRetry?: (info: { attempt: number; status: number | null; error: string }) => void;
  /**
   * Rounds of sending work again that the server's RDKit budget deferred. Each round makes
   * progress (the server identifies at least one new molecule per request), so this only guards
   * against a server that does not.
   */
  budgetRounds?: number;
}

/** 503 identification_budget: the server identified what its budget allowed; send the same request again. */
const IDENTIFICATION_BUDGET = 'identification_budget';

/** A native or QCSchema item; anything else is sent as given, and the server answers with its errors. */
type IngestItem = IngestItemInput | Record<string, unknown>;

/**
 * URL parameters as the server parses them back: lists comma-separated, booleans `true`/`false`,
 * undefined and null left out. `''` when there are none, else `?…`.
 */
export function queryString(params: object = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A function's URL under a project, with its parameters: `…/functions/v1/query/export?format=csv`. */
export function functionUrl(projectUrl: string, path: string, params: object = {}): string {
  return `${projectUrl.replace(/\/$/, '')}/functions/v1/${path}${queryString(params)}`;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** URL parameters, written by `queryString`. */
  query?: object;
  body?: unknown;
  /** A body already serialised: sent as is, as JSON. */
  json?: string;
  /** false: send once (for requests that are not idempotent). */
  retry?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class QfClient {
  private readonly opts: Required<Omit<ClientOptions, 'onRetry'>> & Pick<ClientOptions, 'onRetry'>;

  constructor(private readonly supabase: Invoker, opts: ClientOptions = {}) {
    this.opts = {
      maxItemsPerRequest: opts.maxItemsPerRequest ?? Math.min(500, INGEST_DEFAULT_MAX_ITEMS),
      maxBytesPerRequest: opts.maxBytesPerRequest ?? Math.floor(INGEST_DEFAULT_MAX_BYTES * 0.8),
      maxAtomsPerRequest: opts.maxAtomsPerRequest ?? INGEST_DEFAULT_MAX_ATOMS,
      attempts: opts.attempts ?? 8,
      backoffMs: opts.backoffMs ?? 200,
      budgetRounds: opts.budgetRounds ?? 1000,
      onRetry: opts.onRetry,
    };
  }

  /**
   * Calls a function route and returns its JSON, retrying 503s and network failures.
   * `path` is `<function>[/<route>]`; path segments taken from values must be encoded by the caller.
   */
  async call<T>(path: string, init: CallOptions = {}): Promise<T> {
    const attempts = init.retry === false ? 1 : this.opts.attempts;
    const hasBody = init.body !== undefined || init.json !== undefined;
    const target = `${path}${queryString(init.query)}`;
    let budgetRounds = 0;
    for (let attempt = 1; ; attempt++) {
      const { data, error } = await this.supabase.functions.invoke(target, {
        method: init.method ?? (hasBody ? 'POST' : 'GET'),
        // A body already serialised (`json`) is sent as is, with its content type.
        ...(init.json !== undefined
          ? { body: init.json, headers: { 'Content-Type': 'application/json' } }
          : { body: init.body as Record<string, unknown> | undefined }),
      });
      if (!error) return data as T;
      const response: Response | undefined = (error as { context?: unknown }).context instanceof Response
        ? (error as { context: Response }).context
        : undefined;
      const status = response?.status ?? null;
      const body = response ? await response.json().catch(() => undefined) as ErrorBody | undefined : undefined;
      // Nothing was written and the server progressed: again at once, whatever `retry` says.
      if (status === 503 && body?.error?.code === IDENTIFICATION_BUDGET && ++budgetRounds < this.opts.budgetRounds) {
        attempt--;
        continue;
      }
      // 503: the database is away or busy; no status: the request never got an answer. A 504
      // query_timeout is the query's own doing: sent again, it would time out again.
      const retryable = (status === 503 || status === 502 || status === 504 || status === null)
        && body?.error?.code !== 'query_timeout';
      if (!retryable || attempt >= attempts) {
        throw new QfApiError(status ?? 0, body, body?.error?.message ?? error.message);
      }
      this.opts.onRetry?.({ attempt, status, error: body?.error?.message ?? error.message });
      const delay = this.opts.backoffMs * 2 ** (attempt - 1);
      await sleep(Math.min(10_000, delay / 2 + Math.random() * delay));
    }
  }

  /**
   * Splits `items` into requests under the limits and returns one result per item, in order.
   * Items answered `deferred` are sent again (only they) until none is left.
   */
  async ingest(items: readonly IngestItem[], opts: { userId?: string } = {}): Promise<IngestItemResult[]> {
    const results: IngestItemResult[] = new Array(items.length);
    const head = opts.userId ? `{"user_id":${JSON.stringify(opts.userId)},"calculations":[` : '{"calculations":[';
    let pending = items.map((_, i) => i);
    // After the last round, items still deferred keep that outcome.
    for (let round = 1; pending.length > 0 && round <= this.opts.budgetRounds; round++) {
      const deferred: number[] = [];
      for (const chunk of this.chunks(pending.map((i) => items[i]))) {
        const response = await this.call<IngestResponse>('ingest', { method: 'POST', json: `${head}${chunk.json.join(',')}]}` });
        for (const r of response.results) {
          const index = pending[r.index + chunk.offset];
          results[index] = { ...r, index };
          if (r.outcome === 'deferred') deferred.push(index);
        }
      }
      pending = deferred;
    }
    return results;
  }

  /** Serialises each item once: its size decides the split, and the text becomes the body. */
  private *chunks(items: readonly IngestItem[]): Generator<{ offset: number; json: string[] }> {
    let start = 0;
    let bytes = 0;
    let atoms = 0;
    let json: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const text = JSON.stringify(items[i]);
      const n = atomsOf(items[i]);
      const full = json.length >= this.opts.maxItemsPerRequest
        || (json.length > 0 && (bytes + text.length > this.opts.maxBytesPerRequest || atoms + n > this.opts.maxAtomsPerRequest));
      if (full) {
        yield { offset: start, json };
        start = i;
        bytes = 0;
        atoms = 0;
        json = [];
      }
      bytes += text.length;
      atoms += n;
      json.push(text);
    }
    if (json.length > 0) yield { offset: start, json };
  }
}

/** An item's atoms as the server counts them: its geometry, or a QCSchema item's symbols. */
function atomsOf(item: IngestItem): number {
  const r = item as { geometry?: unknown; molecule?: { symbols?: unknown } };
  const list = Array.isArray(r.geometry) ? r.geometry : Array.isArray(r.molecule?.symbols) ? r.molecule.symbols : [];
  return list.length;
}
