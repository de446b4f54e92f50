// datasets: named datasets and their frozen, versioned releases, exported the same bytes every
// time (docs/releases.md). Every route reads and writes as the caller, under row-level security.
// The GET routes (listing, manifest, downloads) only read: read-only transactions, on the read
// replica when SUPABASE_DB_READ_URL is set; creating a dataset or a release runs on the primary.
import { datasetsApi } from '../../../shared/api/routes/datasets.ts';
import { createApp, defaultDeps, mount, type Deps } from '../_shared/app.ts';
import { caller, readsOnly } from '../_shared/caller.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { createDataset } from './create-dataset.ts';
import { createRelease } from './create-release.ts';
import { exportRelease } from './export-release.ts';
import { getRelease } from './get-release.ts';
import { listDatasets } from './list-datasets.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('datasets', deps);
  serveOpenApi(app, datasetsApi);
  app.use('*', caller(deps, ['authenticated', 'service_role'], { readOnly: readsOnly }));
  mount(app, {
    '/': { GET: listDatasets, POST: createDataset },
    '/:id/releases': { POST: createRelease },
    '/:id/releases/:version': { GET: getRelease },
    '/:id/releases/:version/export': { GET: (c) => exportRelease(c, deps.env.exportPartRows) },
  });
  return app;
}

export const app = buildApp();
