// ingest: how every result enters the database (runners, the uploader, users' scripts), and the
// one place results are corrected or removed.
import { ingestApi } from '../../../shared/api/routes/ingest.ts';
import { createApp, defaultDeps, mount, type Deps } from '../_shared/app.ts';
import { caller } from '../_shared/caller.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { bulkDelete } from './bulk-delete.ts';
import { deleteCalculation } from './delete-calculation.ts';
import { deleteMolecule } from './delete-molecule.ts';
import { patchCalculation } from './patch-calculation.ts';
import { patchMolecule } from './patch-molecule.ts';
import { postIngest } from './post-ingest.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('ingest', deps);
  serveOpenApi(app, ingestApi);
  app.use('*', caller(deps, ['authenticated', 'service_role']));
  mount(app, {
    '/': { POST: postIngest },
    '/molecules/:id': { PATCH: patchMolecule, DELETE: deleteMolecule },
    '/calculations/:id': { PATCH: patchCalculation, DELETE: deleteCalculation },
    '/delete': { POST: bulkDelete },
  });
  return app;
}

export const app = buildApp();
