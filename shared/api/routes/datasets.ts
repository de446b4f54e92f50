// The datasets function's routes: named datasets and their frozen, versioned releases (docs/releases.md).
import { z } from 'zod';
import {
  CreateDatasetBody, CreateReleaseBody, Dataset, ExportReleaseQuery, ListDatasetsResponse, Manifest, OwnerQuery,
  ReleaseResponse, ReleaseSealing, ReleaseSummary, SealReleaseBody,
} from '../../contract/datasets.ts';
import { EXPORT_CONTENT_TYPES, NEXT_CURSOR_HEADER } from '../../contract/query.ts';
import { route, type FunctionApi } from '../route-table.ts';

/** A release's number within its dataset: 1, 2, … (release-sql.ts's versionParam reads it). */
const ReleaseVersion = z.string().regex(/^[1-9][0-9]{0,8}$/, 'must be a release number (1, 2, …)');

export const datasetsApi: FunctionApi = {
  name: 'datasets',
  description: 'Named datasets and their frozen, versioned releases: a manifest with a content hash, and exports that are the same bytes every time.',
  auth: 'caller',
  components: { Dataset, ReleaseSummary, Manifest },
  routes: [
    route('GET /', 'listDatasets', "The caller's datasets by name, each with its releases", { query: OwnerQuery, ok: { ListDatasetsResponse } }),
    route('POST /', 'createDataset', 'Create a named dataset', { body: { CreateDatasetBody }, created: { Dataset }, errors: [409] }),
    route('POST /:id/releases', 'createRelease', "Freeze a selection (filters and/or ids) as the dataset's next release, with its manifest", {
      body: { CreateReleaseBody }, created: { ReleaseResponse }, errors: [409],
      description: 'The content hash is computed RELEASE_PART_ROWS members per request: a release with more members answers 202 '
        + '(ReleaseSealing) after hashing the first part, and POST `sealing.next` hashes the next ones; the last answers 201.',
      responses: { 202: { ReleaseSealing } },
    }),
    route('POST /:id/releases/:version/seal', 'sealRelease', "Hash the next part of a sealing release's content; the last part publishes it", {
      pathParams: { version: ReleaseVersion }, body: { SealReleaseBody }, bodyOptional: true, created: { ReleaseResponse },
      description: 'Under the release row\'s lock, so concurrent calls hash consecutive parts, never one twice. 202 with the progress '
        + 'while parts remain, 201 with the manifest when this call hashed the last part, 200 when the release was already sealed.',
      ok: { ReleaseResponse }, responses: { 202: { ReleaseSealing } },
    }),
    route('GET /:id/releases/:version', 'getRelease', 'A release and its manifest; a withdrawn release says why', {
      pathParams: { version: ReleaseVersion }, query: OwnerQuery, ok: { ReleaseResponse }, errors: [409],
    }),
    route('GET /:id/releases/:version/export', 'exportRelease', "A release's members in canonical order, as extxyz, ndjson or csv: the same bytes every time", {
      pathParams: { version: ReleaseVersion }, query: ExportReleaseQuery, errors: [409],
      description: '409 while the release is sealing (its content hash is not finished) and once it is withdrawn.',
      ok: {
        description: 'The export stream; the canonical ndjson export carries ETag: "<content_sha256>"',
        media: Object.values(EXPORT_CONTENT_TYPES),
        headers: {
          [NEXT_CURSOR_HEADER]: 'with `limit`: the cursor that continues after the last member (absent on the last part)',
          etag: 'the content hash of the canonical ndjson export (no split, profile, cursor or limit)',
        },
      },
      responses: { 304: { description: 'If-None-Match matched the ETag', media: [] } },
    }),
  ],
};
