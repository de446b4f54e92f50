// The health check: is the database reachable, how fast, which migration is applied, and do the
// tables exist. Bounded by a short timeout so a dead database answers 503 instead of hanging.
// The full report is for the service role; `publicHealth` is what anyone else may see.
import type { HealthResponse, PublicHealthResponse } from '../../../shared/contract/health.ts';
import type { Sql } from '../_shared/db.ts';

export const EXPECTED_TABLES = [
  'molecules', 'calculations', 'atomic_properties', 'batch_jobs', 'batch_items', 'event_logs',
] as const;

/** Up or down, and nothing else. */
export function publicHealth(health: HealthResponse): PublicHealthResponse {
  return { status: health.status };
}

export async function checkHealth(sql: Sql, timeoutMs = 2500): Promise<HealthResponse> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const [row] = await Promise.race([
      sql`
        select current_setting('server_version') as server_version,
               to_regclass('supabase_migrations.schema_migrations') is not null as has_history,
               (select jsonb_object_agg(t, to_regclass('public.' || t) is not null)
                  from unnest(${EXPECTED_TABLES as unknown as string[]}::text[]) as t) as tables`,
      timeout,
    ]);
    // The CLI creates its history table on the first push; before that there is no version.
    const [history] = row.has_history
      ? await Promise.race([sql`select max(version) as version from supabase_migrations.schema_migrations`, timeout])
      : [{ version: null }];
    const tables = row.tables as Record<string, boolean>;
    return {
      status: 'ok',
      database: {
        reachable: true,
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
        server_version: row.server_version,
        migration_version: history.version ?? null,
        tables,
        all_tables_present: EXPECTED_TABLES.every((t) => tables[t]),
      },
    };
  } catch (err) {
    console.error('health: database check failed:', (err as Error).message);
    return {
      status: 'unavailable',
      database: {
        reachable: false,
        latency_ms: null,
        server_version: null,
        migration_version: null,
        tables: Object.fromEntries(EXPECTED_TABLES.map((t) => [t, false])),
        all_tables_present: false,
        error: (err as Error).message,
      },
    };
  } finally {
    clearTimeout(timer);
  }
}
