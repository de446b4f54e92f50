// Typed client calls of the datasets function: datasets, releases (made in one call, however many
// requests sealing takes), manifests, and a release's export as a byte stream over fetch (it may
// be large), resumed by cursor part after part.
import { functionUrl, type QfClient } from './client.ts';
import { cursorDownload } from './client-query.ts';
import type {
  CreateDatasetBody, CreateReleaseBody, Dataset, ExportReleaseQuery, ListDatasetsResponse, OwnerQuery, ReleaseResponse,
  ReleaseSealing,
} from './contract/datasets.ts';

const releasesPath = (datasetId: string) => `datasets/${encodeURIComponent(datasetId)}/releases`;

export const createDataset = (client: QfClient, body: CreateDatasetBody) =>
  client.call<Dataset>('datasets', { method: 'POST', body, retry: false });

export const listDatasets = (client: QfClient, query: OwnerQuery = {}) =>
  client.call<ListDatasetsResponse>('datasets', { method: 'GET', query });

export interface CreateReleaseOptions {
  /** Called after each part while the release is sealing (progress: members hashed of all). */
  onSealing?: (progress: ReleaseSealing) => void;
}

/**
 * Makes a release and returns it sealed. The server hashes a large release's content over several
 * requests: while it answers 202 (sealing), this posts the next part (`sealing.next`) until the
 * last one answers with the manifest. The first request is not retried (a lost answer could
 * otherwise make two releases); the next parts are, since each continues where the release row
 * says, and a release already sealed answers with itself.
 */
export async function createRelease(
  client: QfClient, datasetId: string, body: CreateReleaseBody, opts: CreateReleaseOptions = {},
): Promise<ReleaseResponse> {
  let answer = await client.call<ReleaseResponse | ReleaseSealing>(releasesPath(datasetId), { method: 'POST', body, retry: false });
  const owner = body.user_id ? { user_id: body.user_id } : {};
  while (isSealing(answer)) {
    opts.onSealing?.(answer);
    answer = await sealRelease(client, datasetId, answer.release.version, owner);
  }
  return answer;
}

/** Hashes the next part of a sealing release: its progress (202), or the release once sealed. */
export const sealRelease = (client: QfClient, datasetId: string, version: number, body: OwnerQuery = {}) =>
  client.call<ReleaseResponse | ReleaseSealing>(`${releasesPath(datasetId)}/${version}/seal`, { method: 'POST', body });

export const isSealing = (answer: ReleaseResponse | ReleaseSealing): answer is ReleaseSealing => 'sealing' in answer;

export const getRelease = (client: QfClient, datasetId: string, version: number, query: OwnerQuery = {}) =>
  client.call<ReleaseResponse>(`${releasesPath(datasetId)}/${version}`, { method: 'GET', query });

export type ReleaseExportParams = Partial<ExportReleaseQuery> & Pick<ExportReleaseQuery, 'format'>;

export function releaseExportUrl(projectUrl: string, datasetId: string, version: number, params: ReleaseExportParams): string {
  return functionUrl(projectUrl, `${releasesPath(datasetId)}/${version}/export`, params);
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
