// batches: batch jobs that runners claim under leases, with retries, attempt history and live
// progress. Static routes come before /:id, and every path answers other methods with a 405.
import { createApp, defaultDeps, methodNotAllowed, type Deps } from '../_shared/app.ts';
import { requireAuth } from '../_shared/auth.ts';
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
  app.use('*', requireAuth(deps.verify, ['authenticated', 'service_role']));
  app.post('/', createBatch(deps));
  app.get('/', listBatches(deps));
  app.all('/', methodNotAllowed(['GET', 'POST']));
  app.post('/claim', claimItems(deps));
  app.all('/claim', methodNotAllowed(['POST']));
  app.post('/heartbeat', heartbeatItems(deps));
  app.all('/heartbeat', methodNotAllowed(['POST']));
  app.post('/complete', completeItem(deps));
  app.all('/complete', methodNotAllowed(['POST']));
  app.post('/complete-many', completeMany(deps));
  app.all('/complete-many', methodNotAllowed(['POST']));
  app.post('/fail', failItem(deps));
  app.all('/fail', methodNotAllowed(['POST']));
  app.get('/:id', getBatch(deps));
  app.delete('/:id', deleteBatch(deps));
  app.all('/:id', methodNotAllowed(['GET', 'DELETE']));
  app.post('/:id/items', addBatchItems(deps));
  app.all('/:id/items', methodNotAllowed(['POST']));
  app.post('/:id/cancel', cancelBatch(deps));
  app.all('/:id/cancel', methodNotAllowed(['POST']));
  app.post('/:id/retry', retryBatch(deps));
  app.all('/:id/retry', methodNotAllowed(['POST']));
  return app;
}

export const app = buildApp();
