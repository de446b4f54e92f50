// Typed client calls of the datasets function: datasets, releases, manifests, and a release's
// export as a byte stream over fetch (it may be large), resumed by cursor part after part.
import { queryString, type QfClient } from './client.ts';
import { cursorDownload } from './client-query.ts';
import type {
  CreateDatasetBody, CreateReleaseBody, Dataset, ExportReleaseQuery, ListDatasetsResponse, OwnerQuery, ReleaseResponse,
} from './contract/datasets.ts';

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
export function releaseExportStream(opts: ReleaseExportOptions): AsyncGenerator<Uint8Array> {
  return cursorDownload((cursor) =>
    releaseExportUrl(opts.url, opts.datasetId, opts.version, cursor === undefined ? opts.params : { ...opts.params, cursor }), opts);
}
