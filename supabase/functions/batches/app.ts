// batches: batch jobs that runners claim under leases, with retries, attempt history and live
// progress. Static routes come before /:id, and every path answers other methods with a 405.
import { batchesApi } from '../../../shared/api/routes/batches.ts';
import { createApp, defaultDeps, mount, type Deps } from '../_shared/app.ts';
import { caller } from '../_shared/caller.ts';
import { serveOpenApi } from '../_shared/openapi.ts';
import { addBatchItems } from './add-batch-items.ts';
import { cancelBatch } from './cancel-batch.ts';
import { claimItems } from './claim-items.ts';
import { completeItem } from './complete-item.ts';
import { completeMany } from './complete-many.ts';
import { createBatch } from './create-batch.ts';
import { deleteBatch } from './delete-batch.ts';
import { failItem } from './fail-item.ts';
import { getBatch } from './get-batch.ts';
import { heartbeatItems } from './heartbeat-items.ts';
import { listBatches } from './list-batches.ts';
import { retryBatch } from './retry-batch.ts';

export function buildApp(deps: Deps = defaultDeps()) {
  const app = createApp('batches', deps);
  serveOpenApi(app, batchesApi);
  app.use('*', caller(deps, ['authenticated', 'service_role']));
  mount(app, {
    '/': { GET: listBatches, POST: createBatch },
    '/claim': { POST: claimItems },
    '/heartbeat': { POST: heartbeatItems },
    '/complete': { POST: completeItem },
    '/complete-many': { POST: completeMany },
    '/fail': { POST: failItem },
    '/:id': { GET: getBatch, DELETE: deleteBatch },
    '/:id/items': { POST: addBatchItems },
    '/:id/cancel': { POST: cancelBatch },
    '/:id/retry': { POST: retryBatch },
  });
  return app;
}

export const app = buildApp();
