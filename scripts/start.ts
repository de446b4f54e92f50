// `npm start`: the local Supabase-shaped stack on the embedded database (or SUPABASE_DB_URL /
// DATABASE_URL), until Ctrl-C or SIGTERM. Writes the URL and keys to .local/stack.env.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoPath } from './stack/paths.ts';
import { newJwtSecret } from './stack/keys.ts';
import { startDashboard } from './stack/dashboard.ts';
import { startStack, stackEnvLines, type Stack } from './stack/stack.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FUNCTIONS_PORT ?? '54321' },
    'db-port': { type: 'string', default: process.env.DB_PORT ?? '54322' },
    'dashboard-port': { type: 'string', default: process.env.DASHBOARD_PORT ?? '54323' },
    verbose: { type: 'boolean', default: false },
  },
});

// QF_LOCAL_DIR moves the stack's state elsewhere (tests run several stacks side by side).
const localDir = process.env.QF_LOCAL_DIR ? path.resolve(process.env.QF_LOCAL_DIR) : repoPath('.local');
const local = (name: string) => path.join(localDir, name);

/** The JWT secret lives beside the data, so keys printed once stay valid across restarts. */
async function jwtSecret(): Promise<string> {
  if (process.env.SUPABASE_JWT_SECRET) return process.env.SUPABASE_JWT_SECRET;
  const file = local('jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = newJwtSecret();
    await writeFile(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}

async function main(): Promise<void> {
  await mkdir(localDir, { recursive: true, mode: 0o755 });
  const external = process.env.SUPABASE_DB_URL || process.env.DATABASE_URL || undefined;
  console.log(external ? 'Using the database at SUPABASE_DB_URL/DATABASE_URL' : 'Starting embedded PostgreSQL 17 (data in .local/pgdata)');
  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the functions and the database…`);
    await stack?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  const dashboard = await startDashboard({ port: Number(values['dashboard-port']), localDir, log: console.log });
  stack = await startStack({
    dbUrl: external,
    dataDir: local('pgdata'),
    dbPort: Number(values['db-port']),
    functionsPort: Number(values.port),
    jwtSecret: await jwtSecret(),
    log: (source, line) => {
      if (values.verbose || source === 'migrations' || (source === 'functions' && /error/i.test(line))) {
        process.stdout.write(`[${source}] ${line.endsWith('\n') ? line : line + '\n'}`);
      }
    },
  });
  const env = stackEnvLines(stack);
  const { signInUrl, userId } = await dashboard.attach(stack);
  await writeFile(local('stack.env'), env, { mode: 0o600 });
  console.log(`
Quantum Forge Data is running.

${env}
Functions:   ${stack.url}/functions/v1/<name>   (health, …)
Try:         curl ${stack.url}/functions/v1/health -H "Authorization: Bearer $SUPABASE_ANON_KEY"
User token:  npm run token -- --user <uuid>
Dashboard:   ${signInUrl}${userId ? `\n             (signs in local user ${userId} for 24 h; upload for it with --user-id ${userId})` : ''}
Written to .local/stack.env. Ctrl-C stops everything.`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
