// health: is the service up? Any valid token may ask, but only the service role hears the details
// (server and migration version, tables, latency, the connection error); everyone else gets
// `{ "status": "ok" | "unavailable" }`, so strangers learn nothing about the deployment.
import { healthApi } from '../../../shared/api/routes/health.ts';
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { checkHealth, publicHealth } from './check.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('health');
  serveOpenApi(app, healthApi);
  app.use('*', requireAuth(deps.verify));
  app.get('/', async (c) => {
    const health = await checkHealth(deps.sql);
    const body = c.get('claims').role === 'service_role' ? health : publicHealth(health);
    return c.json(body, health.status === 'ok' ? 200 : 503);
  });
  app.all('/', methodNotAllowed(['GET']));
  return app;
}

export const app = buildApp();
