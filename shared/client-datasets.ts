// Typed client calls of the datasets function: datasets, releases, manifests, and a release's
// export as a byte stream over fetch (it may be large), resumed by cursor part after part.
import { QfApiError, queryString, type QfClient } from './client.ts';
import type { ErrorBody } from './contract/common.ts';
import type {
  CreateDatasetBody, CreateReleaseBody, Dataset, ExportReleaseQuery, ListDatasetsResponse, OwnerQuery, ReleaseResponse,
} from './contract/datasets.ts';
import { NEXT_CURSOR_HEADER } from './contract/query.ts';

const releasesPath = (datasetId: string) => `datasets/${encodeURIComponent(datasetId)}/releases`;

export const createDataset = (client: QfClient, body: CreateDatasetBody) =>
  client.call<Dataset>('datasets', { method: 'POST', body, retry: false });

export const listDatasets = (client: QfClient, query: OwnerQuery = {}) =>
  client.call<ListDatasetsResponse>('datasets', { method: 'GET', query });

/** Not retried: a lost answer could otherwise make two releases. */
export const createRelease = (client: QfClient, datasetId: string, body: CreateReleaseBody) =>
  client.call<ReleaseResponse>(releasesPath(datasetId), { method: 'POST', body, retry: false });

export const getRelease = (client: QfClient, datasetId: string, version: number, query: OwnerQuery = {}) =>
  client.call<ReleaseResponse>(`${releasesPath(datasetId)}/${version}`, { method: 'GET', query });

export type ReleaseExportParams = Partial<ExportReleaseQuery> & Pick<ExportReleaseQuery, 'format'>;

export function releaseExportUrl(projectUrl: string, datasetId: string, version: number, params: ReleaseExportParams): string {
  return `${projectUrl.replace(/\/$/, '')}/functions/v1/${releasesPath(datasetId)}/${version}/export${queryString(params)}`;
}

export interface ReleaseExportOptions {
  /** The project URL (SUPABASE_URL). */
  url: string;
  /** A user's access token, or the service-role key with params.user_id. */
  token: string;
  datasetId: string;
  version: number;
  params: ReleaseExportParams;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** The export's bytes as they arrive; with `params.limit`, part after part by X-Next-Cursor. */
export async function* releaseExportStream(opts: ReleaseExportOptions): AsyncGenerator<Uint8Array> {
  const doFetch = opts.fetch ?? fetch;
  let params = opts.params;
  for (;;) {
    const res = await doFetch(releaseExportUrl(opts.url, opts.datasetId, opts.version, params), {
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
      if (!complete) await reader.cancel().catch(() => {});
    }
    if (!next) return;
    params = { ...params, cursor: next };
  }
}
