// health: database reachability, latency, server and migration version. Any valid token will do.
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
import { checkHealth } from './check.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('health');
  app.use('*', requireAuth(deps.verify));
  app.get('/', async (c) => {
    const health = await checkHealth(deps.sql);
    return c.json(health, health.status === 'ok' ? 200 : 503);
  });
  app.all('/', methodNotAllowed(['GET']));
  return app;
}

export const app = buildApp();
