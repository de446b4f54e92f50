// datasets: named datasets and their frozen, versioned releases, exported the same bytes every
// time (docs/releases.md). Every route reads and writes as the caller, under row-level security.
// The GET routes (listing, manifest, downloads) only read: read-only transactions, on the read
// replica when SUPABASE_DB_READ_URL is set; creating a dataset or a release, and sealing a release
// part by part (RELEASE_PART_ROWS members per request), run on the primary.
import { datasetsApi } from '../../../shared/api/routes/datasets.ts';
import { createApp, defaultDeps, mount, type Deps } from '../_shared/app.ts';
import { caller, readsOnly } from '../_shared/caller.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { createDataset } from './create-dataset.ts';
import { createRelease } from './create-release.ts';
import { exportRelease } from './export-release.ts';
import { getRelease } from './get-release.ts';
import { listDatasets } from './list-datasets.ts';
import { sealRelease } from './seal-release.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('datasets', deps);
  serveOpenApi(app, datasetsApi);
  app.use('*', caller(deps, ['authenticated', 'service_role'], { readOnly: readsOnly }));
  mount(app, {
    '/': { GET: listDatasets, POST: createDataset },
    '/:id/releases': { POST: (c) => createRelease(c, deps.env.releasePartRows) },
    '/:id/releases/:version/seal': { POST: (c) => sealRelease(c, deps.env.releasePartRows) },
    '/:id/releases/:version': { GET: getRelease },
    '/:id/releases/:version/export': { GET: (c) => exportRelease(c, deps.env.exportPartRows) },
  });
  return app;
}

export const app = buildApp();
