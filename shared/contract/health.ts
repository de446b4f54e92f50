// The health contract: GET /functions/v1/health answers 200 when the database is reachable and 503
// when it is not, with the same body.
import { z } from 'zod';

export const HealthResponse = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.object({
    reachable: z.boolean(),
    latency_ms: z.number().nullable(),
    server_version: z.string().nullable(),
    /** The newest migration applied; null before the first `db push`. */
    migration_version: z.string().nullable(),
    /** Whether each table the functions need exists. */
    tables: z.record(z.string(), z.boolean()),
    all_tables_present: z.boolean(),
    error: z.string().optional(),
  }),
});
export type HealthResponse = z.output<typeof HealthResponse>;

/** What any token other than the service role's hears: up or down, nothing about the deployment. */
export const PublicHealthResponse = HealthResponse.pick({ status: true });
export type PublicHealthResponse = z.output<typeof PublicHealthResponse>;
