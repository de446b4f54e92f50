// ingest: how every result enters the database (runners, the uploader, users' scripts), and the
// one place results are corrected or removed.
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
import { bulkDelete } from './bulk-delete.ts';
import { deleteCalculation, deleteMolecule } from './delete-entities.ts';
import { patchCalculation, patchMolecule } from './patch-entities.ts';
import { postIngest } from './post-ingest.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('ingest', deps);
  app.use('*', requireAuth(deps.verify, ['authenticated', 'service_role']));
  app.post('/', postIngest(deps));
  app.all('/', methodNotAllowed(['POST']));
  app.patch('/molecules/:id', patchMolecule(deps));
  app.delete('/molecules/:id', deleteMolecule(deps));
  app.all('/molecules/:id', methodNotAllowed(['PATCH', 'DELETE']));
  app.patch('/calculations/:id', patchCalculation(deps));
  app.delete('/calculations/:id', deleteCalculation(deps));
  app.all('/calculations/:id', methodNotAllowed(['PATCH', 'DELETE']));
  app.post('/delete', bulkDelete(deps));
  app.all('/delete', methodNotAllowed(['POST']));
  return app;
}

export const app = buildApp();
