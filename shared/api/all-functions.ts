// Every function's routes, in the order the merged document lists them (docs/openapi.json). A new
// function adds its routes file and one line here; the route-coverage test names any function
// whose folder is missing from this list.
import type { FunctionApi } from './route-table.ts';
import { batchesApi } from './routes/batches.ts';
import { datasetsApi } from './routes/datasets.ts';
import { healthApi } from './routes/health.ts';
import { ingestApi } from './routes/ingest.ts';
import { queryApi } from './routes/query.ts';

export const ALL_FUNCTIONS: readonly FunctionApi[] = [
  ingestApi,
  queryApi,
  batchesApi,
  datasetsApi,
  healthApi,
];
