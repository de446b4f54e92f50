// The whole local stack: Postgres (embedded, or an existing one), bootstrap, migrations through the
// CLI, and the functions under Deno. `npm start` and the test harness both start it from here.
import { startPostgres, type RunningPostgres } from './postgres.ts';
import { backfillMoleculeKeys, describeBackfill } from '../molecule-keys/backfill.ts';
import { applyBootstrap, pushMigrations } from './migrate.ts';
import { startFunctions, type RunningFunctions } from './functions.ts';
import { LOCAL_AUTH_ISSUER, mintToken } from './keys.ts';

export interface StackOptions {
  /** An existing Postgres to use instead of the embedded one. */
  dbUrl?: string;
  dataDir: string;
  dbPort: number;
  functionsPort: number;
  jwtSecret: string;
  /** Extra environment for the functions process. */
  functionsEnv?: Record<string, string>;
  log?: (source: 'postgres' | 'migrations' | 'functions', line: string) => void;
}

export interface Stack {
  /** The project URL; functions live at `${url}/functions/v1/<name>`. */
  url: string;
  dbUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  postgres?: RunningPostgres;
  functions: RunningFunctions;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? (() => {});
  let pg: RunningPostgres | undefined;
  let dbUrl = opts.dbUrl;
  if (!dbUrl) {
    pg = await startPostgres({ dataDir: opts.dataDir, port: opts.dbPort, log: (l) => log('postgres', l) });
    dbUrl = pg.url;
  }
  try {
    await applyBootstrap(dbUrl);
    log('migrations', await pushMigrations(dbUrl));
    // Data the migrations cannot compute in SQL (molecule keys need RDKit); nothing to do on a new database.
    log('migrations', `${describeBackfill(await backfillMoleculeKeys(dbUrl))}\n`);
    const functions = await startFunctions({
      port: opts.functionsPort,
      env: { SUPABASE_DB_URL: dbUrl, SUPABASE_JWT_SECRET: opts.jwtSecret, AUTH_ISSUER: LOCAL_AUTH_ISSUER, ...opts.functionsEnv },
      log: (l) => log('functions', l),
    });
    const stack: Stack = {
      url: functions.url,
      dbUrl,
      jwtSecret: opts.jwtSecret,
      anonKey: await mintToken({ secret: opts.jwtSecret, role: 'anon' }),
      serviceRoleKey: await mintToken({ secret: opts.jwtSecret, role: 'service_role' }),
      postgres: pg,
      functions,
      stop: async () => {
        await functions.stop();
        await pg?.stop();
      },
    };
    return stack;
  } catch (err) {
    await pg?.stop();
    throw err;
  }
}

/** The stack's connection facts as `KEY=value` lines (`.local/stack.env`). */
export function stackEnvLines(stack: Stack): string {
  return [
    `SUPABASE_URL=${stack.url}`,
    `SUPABASE_ANON_KEY=${stack.anonKey}`,
    `SUPABASE_SERVICE_ROLE_KEY=${stack.serviceRoleKey}`,
    `SUPABASE_DB_URL=${stack.dbUrl}`,
    `SUPABASE_JWT_SECRET=${stack.jwtSecret}`,
  ].join('\n') + '\n';
}
