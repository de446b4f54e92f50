// The health function's one route.
import { z } from 'zod';
import { HealthResponse, PublicHealthResponse } from '../../contract/health.ts';
import { route, type FunctionApi } from '../route-table.ts';

/** The service role hears the full report; any other token only the status. */
const HealthAnswer = z.union([HealthResponse, PublicHealthResponse]);

export const healthApi: FunctionApi = {
  name: 'health',
  description: 'Is the service up? Any valid token may ask; only the service role hears the details.',
  auth: 'token',
  routes: [
    route('GET /', 'health', 'Whether the database is reachable (200) or not (503), with the same body', {
      ok: { HealthAnswer }, responses: { 503: { HealthAnswer } },
    }),
  ],
};
