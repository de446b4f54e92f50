// The typed client of the query function: one function per route over QfClient.call (JSON routes,
// with its retries), async iterators that follow the keyset cursors, and the export as a byte
// stream over fetch (supabase-js `functions.invoke` would buffer the whole body).
import type { QfClient } from './client.ts';
import type { ErrorBody } from './contract/common.ts';
import {
  NEXT_CURSOR_HEADER,
  type CalculationDetail, type CalculationRow, type EventRow, type ExportQuery, type ListCalculationsQuery,
  type ListEventsQuery, type ListMoleculesQuery, type MoleculeDetail, type MoleculeRow, type Page, type StatsResponse,
} from './contract/query.ts';
import { QfApiError } from './client.ts';

type Params<T> = { [K in keyof T]?: T[K] };
export type CalculationParams = Params<ListCalculationsQuery>;
export type MoleculeParams = Params<ListMoleculesQuery>;
export type EventParams = Params<ListEventsQuery>;
export type ExportParams = Params<ExportQuery> & Pick<ExportQuery, 'format'>;

/** Parameters as the server parses them back: lists comma-separated, booleans true/false. */
export function queryString(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const listCalculations = (client: QfClient, params: CalculationParams = {}) =>
  client.call<Page<CalculationRow>>(`query/calculations${queryString(params)}`, { method: 'GET' });

export const getCalculation = (client: QfClient, id: string) =>
  client.call<CalculationDetail>(`query/calculations/${encodeURIComponent(id)}`, { method: 'GET' });

export const listMolecules = (client: QfClient, params: MoleculeParams = {}) =>
  client.call<Page<MoleculeRow>>(`query/molecules${queryString(params)}`, { method: 'GET' });

export const getMolecule = (client: QfClient, id: string) =>
  client.call<MoleculeDetail>(`query/molecules/${encodeURIComponent(id)}`, { method: 'GET' });

export const stats = (client: QfClient, params: { bins?: number; user_id?: string } = {}) =>
  client.call<StatsResponse>(`query/stats${queryString(params)}`, { method: 'GET' });

export const listEvents = (client: QfClient, params: EventParams = {}) =>
  client.call<Page<EventRow>>(`query/events${queryString(params)}`, { method: 'GET' });

/** Every row of a listing, page after page (the cursor carries sort and order on). */
export async function* pages<T, P extends { cursor?: string }>(
  list: (client: QfClient, params: P) => Promise<Page<T>>,
  client: QfClient,
  params: P,
): AsyncGenerator<T[]> {
  let cursor = params.cursor;
  for (;;) {
    const page = await list(client, { ...params, cursor });
    yield page.data;
    if (!page.next_cursor) return;
    cursor = page.next_cursor;
  }
}

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

/**
 * The export's bytes as they arrive. With `params.limit`, each request holds at most that many
 * calculations and the next one continues from its X-Next-Cursor, until the selection is done:
 * each request stays within the platform's per-request limits.
 */
export async function* exportStream(opts: ExportOptions): AsyncGenerator<Uint8Array> {
  const doFetch = opts.fetch ?? fetch;
  let params = opts.params;
  for (;;) {
    const res = await doFetch(exportUrl(opts.url, params), {
      headers: { authorization: `Bearer ${opts.token}` },
      signal: opts.signal,
    });
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
    // The cursor carries sort and order; a csv header is written again by each request.
    const { sort: _s, order: _o, ...rest } = params;
    params = { ...rest, cursor: next };
  }
}
