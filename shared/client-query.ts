// The typed client of the query function: one function per route over QfClient.call (JSON routes,
// with its retries), and the export as a byte stream over fetch (supabase-js `functions.invoke`
// would buffer the whole body).
import { QfApiError, queryString, type QfClient } from './client.ts';
import type { ErrorBody, QueryParams } from './contract/common.ts';
import {
  NEXT_CURSOR_HEADER,
  type CalculationDetail, type CalculationRow, type EventRow, type ExportQuery, type GetByIdQuery, type ListCalculationsQuery,
  type ListEventsQuery, type ListMoleculesQuery, type MoleculeDetail, type MoleculeRow, type Page, type StatsQuery,
  type StatsResponse,
} from './contract/query.ts';

export type CalculationParams = QueryParams<typeof ListCalculationsQuery>;
export type MoleculeParams = QueryParams<typeof ListMoleculesQuery>;
export type EventParams = QueryParams<typeof ListEventsQuery>;
export type StatsParams = QueryParams<typeof StatsQuery>;
export type ExportParams = QueryParams<typeof ExportQuery> & Pick<ExportQuery, 'format'>;
export type ByIdParams = QueryParams<typeof GetByIdQuery>;

const get = <T>(client: QfClient, path: string, query?: object) => client.call<T>(`query/${path}`, { method: 'GET', query });

export const listCalculations = (client: QfClient, params: CalculationParams = {}) =>
  get<Page<CalculationRow>>(client, 'calculations', params);

export const getCalculation = (client: QfClient, id: string, params: ByIdParams = {}) =>
  get<CalculationDetail>(client, `calculations/${encodeURIComponent(id)}`, params);

export const listMolecules = (client: QfClient, params: MoleculeParams = {}) =>
  get<Page<MoleculeRow>>(client, 'molecules', params);

export const getMolecule = (client: QfClient, id: string, params: ByIdParams = {}) =>
  get<MoleculeDetail>(client, `molecules/${encodeURIComponent(id)}`, params);

export const stats = (client: QfClient, params: StatsParams = {}) =>
  get<StatsResponse>(client, 'stats', params);

export const listEvents = (client: QfClient, params: EventParams = {}) =>
  get<Page<EventRow>>(client, 'events', params);

/** The export's URL, e.g. for `curl -H "Authorization: Bearer …" -o data.extxyz "$(exportUrl(…))"`. */
export function exportUrl(projectUrl: string, params: ExportParams): string {
  return `${projectUrl.replace(/\/$/, '')}/functions/v1/query/export${queryString(params)}`;
}

export interface ExportOptions {
  /** The project URL (SUPABASE_URL). */
  url: string;
  /** A user's access token, or the service-role key with params.user_id. */
  token: string;
  params: ExportParams;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** How a download is fetched: whose token, and the caller's own fetch and abort signal. */
export interface DownloadOptions {
  token: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * The bytes of a download that continues by X-Next-Cursor, as they arrive: `urlFor(undefined)` is
 * the first part's URL and `urlFor(cursor)` each next one's, until a part names no cursor. Used by
 * the live export and by release exports alike.
 */
export async function* cursorDownload(urlFor: (cursor: string | undefined) => string, opts: DownloadOptions): AsyncGenerator<Uint8Array> {
  const doFetch = opts.fetch ?? fetch;
  let cursor: string | undefined;
  for (;;) {
    const res = await doFetch(urlFor(cursor), { headers: { authorization: `Bearer ${opts.token}` }, signal: opts.signal });
    if (!res.ok || !res.body) {
      const body = await res.json().catch(() => undefined) as ErrorBody | undefined;
      throw new QfApiError(res.status, body, body?.error?.message ?? `export failed with HTTP ${res.status}`);
    }
    const next = res.headers.get(NEXT_CURSOR_HEADER);
    const reader = res.body.getReader();
    let complete = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield value;
      }
      complete = true;
    } finally {
      // A consumer that stops early hangs up: the server closes its cursor and ends the query.
      if (!complete) await reader.cancel().catch(() => {});
    }
    if (!next) return;
    cursor = next;
  }
}

/**
 * The export's bytes as they arrive. With `params.limit`, each request holds at most that many
 * calculations and the next one continues from its X-Next-Cursor, until the selection is done:
 * each request stays within the platform's per-request limits.
 */
export function exportStream(opts: ExportOptions): AsyncGenerator<Uint8Array> {
  return cursorDownload((cursor) => {
    if (cursor === undefined) return exportUrl(opts.url, opts.params);
    // The cursor carries sort and order; a csv header is written again by each request.
    const { sort: _s, order: _o, ...rest } = opts.params;
    return exportUrl(opts.url, { ...rest, cursor });
  }, opts);
}
