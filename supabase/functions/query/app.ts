// query: how clients read their data — molecules, calculations (filtered, keyset-paged), stats,
// events, and streaming exports for ML. Every route reads as the caller, under row-level security.
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
import { getCalculation } from './get-calculation.ts';
import { getExport } from './get-export.ts';
import { getMolecule } from './get-molecule.ts';
import { getRawOutput } from './get-raw-output.ts';
import { getStats } from './get-stats.ts';
import { listCalculations } from './list-calculations.ts';
import { listEvents } from './list-events.ts';
import { listMolecules } from './list-molecules.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('query');
  app.use('*', requireAuth(deps.verify, ['authenticated', 'service_role']));
  const routes = [
    ['/molecules', listMolecules(deps)],
    ['/molecules/:id', getMolecule(deps)],
    ['/calculations', listCalculations(deps)],
    ['/calculations/:id', getCalculation(deps)],
    ['/calculations/:id/xtb.out', getRawOutput(deps)],
    ['/stats', getStats(deps)],
    ['/events', listEvents(deps)],
    ['/export', getExport(deps)],
  ] as const;
  for (const [path, handler] of routes) {
    app.get(path, handler);
    app.all(path, methodNotAllowed(['GET']));
  }
  return app;
}

export const app = buildApp();
