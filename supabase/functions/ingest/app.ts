// ingest: how every result enters the database (runners, the uploader, users' scripts).
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
import { postIngest } from './post-ingest.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('ingest');
  app.use('*', requireAuth(deps.verify, ['authenticated', 'service_role']));
  app.post('/', postIngest(deps));
  app.all('/', methodNotAllowed(['POST']));
  return app;
}

export const app = buildApp();
