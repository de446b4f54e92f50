// query: how clients read their data — molecules, calculations (filtered, keyset-paged), stats,
// events, and streaming exports for ML. Every route reads as the caller, under row-level security,
// in a read-only transaction: on the read replica when SUPABASE_DB_READ_URL is set.
import { queryApi } from '../../../shared/api/routes/query.ts';
import { createApp, defaultDeps, mount, type Deps } from '../_shared/app.ts';
import { caller } from '../_shared/caller.ts';
import { exportSlots } from '../_shared/export-slots.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { getCalculation } from './get-calculation.ts';
import { getExport } from './get-export.ts';
import { getMolecule } from './get-molecule.ts';
import { getRawOutput } from './get-raw-output.ts';
import { getStats } from './get-stats.ts';
import { listCalculations } from './list-calculations.ts';
import { listEvents } from './list-events.ts';
import { listMolecules } from './list-molecules.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('query', deps);
  serveOpenApi(app, queryApi);
  app.use('*', caller(deps, ['authenticated', 'service_role'], { readOnly: true }));
  app.use('/export', exportSlots(deps.env.exportsPerUser));
  mount(app, {
    '/molecules': { GET: listMolecules },
    '/molecules/:id': { GET: getMolecule },
    '/calculations': { GET: listCalculations },
    '/calculations/:id': { GET: getCalculation },
    '/calculations/:id/xtb.out': { GET: getRawOutput },
    '/stats': { GET: getStats },
    '/events': { GET: listEvents },
    '/export': { GET: (c) => getExport(c, deps.env.exportPartRows) },
  });
  return app;
}

export const app = buildApp();
