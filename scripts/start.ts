// `npm start`: the local Supabase-shaped stack on the embedded database (or SUPABASE_DB_URL /
// DATABASE_URL), until Ctrl-C or SIGTERM. Creates the demo user (idempotently) and writes the URL,
// the keys, the demo user's id and a token for it to .local/stack.env.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cliArgs, exitOnCliError, wholeNumberArg } from './lib/cli-args.ts';
import { whenLauncherExits } from './lib/launcher-exit.ts';
import { DEMO_TOKEN_TTL_S, DEMO_USER_EMAIL, DEMO_USER_ID, ensureLocalUser } from './lib/local-user.ts';
import { repoPath } from './stack/paths.ts';
import { mintToken, newJwtSecret } from './stack/keys.ts';
import { startDashboard } from './stack/dashboard.ts';
import { startStack, stackEnvLines, type Stack } from './stack/stack.ts';

const USAGE = [
  'usage: npm start -- [--port 54321] [--db-port 54322] [--dashboard-port 54323] [--verbose]',
  '  --port N            port of the functions (http://127.0.0.1:N/functions/v1/<name>; default 54321 or FUNCTIONS_PORT)',
  '  --db-port N         port of the embedded PostgreSQL (default 54322 or DB_PORT)',
  '  --dashboard-port N  port of the dashboard (http://127.0.0.1:N/; default 54323 or DASHBOARD_PORT)',
  '  --verbose           print the output of Postgres and of every function',
  '  -h, --help          print this help',
  'Starts PostgreSQL 17 (data in .local/pgdata; SUPABASE_DB_URL or DATABASE_URL to use another), applies the',
  'migrations, serves the functions and the dashboard, creates the demo user and writes URL, keys,',
  'QF_DEMO_USER_ID and SUPABASE_ACCESS_TOKEN (the demo user\'s token) to .local/stack.env; the printed',
  'dashboard URL signs in the demo user. Ctrl-C or SIGTERM (to npm or to this process) stops everything.',
].join('\n');

const { values } = cliArgs('start', USAGE, process.argv.slice(2), {
  allowPositionals: false,
  options: {
    port: { type: 'string', default: process.env.FUNCTIONS_PORT ?? '54321' },
    'db-port': { type: 'string', default: process.env.DB_PORT ?? '54322' },
    'dashboard-port': { type: 'string', default: process.env.DASHBOARD_PORT ?? '54323' },
    verbose: { type: 'boolean', default: false },
  },
});
let ports: { functions: number; db: number; dashboard: number };
try {
  ports = {
    functions: wholeNumberArg('--port', values.port, 1, 65535)!,
    db: wholeNumberArg('--db-port', values['db-port'], 1, 65535)!,
    dashboard: wholeNumberArg('--dashboard-port', values['dashboard-port'], 1, 65535)!,
  };
} catch (err) {
  exitOnCliError(err, 'start', USAGE);
  throw err;
}

// QF_LOCAL_DIR moves the stack's state elsewhere (tests run several stacks side by side).
const localDir = process.env.QF_LOCAL_DIR ? path.resolve(process.env.QF_LOCAL_DIR) : repoPath('.local');
const local = (name: string) => path.join(localDir, name);
/** A path as the user should type it: relative inside the current directory, absolute elsewhere. */
const shown = (file: string) => {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
};

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
  console.log(external ? 'Using the database at SUPABASE_DB_URL/DATABASE_URL' : `Starting embedded PostgreSQL 17 (data in ${shown(local('pgdata'))})`);
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
  whenLauncherExits(() => void shutdown('npm (or the shell that started this) exited'));

  const dashboard = await startDashboard({ port: ports.dashboard, log: console.log });
  stack = await startStack({
    dbUrl: external,
    dataDir: local('pgdata'),
    dbPort: ports.db,
    functionsPort: ports.functions,
    jwtSecret: await jwtSecret(),
    log: (source, line) => {
      if (values.verbose || source === 'migrations' || (source === 'functions' && /error/i.test(line))) {
        process.stdout.write(`[${source}] ${line.endsWith('\n') ? line : line + '\n'}`);
      }
    },
  });
  const demo = await demoUser(stack);
  const env = stackEnvLines(stack) + (demo ? `QF_DEMO_USER_ID=${DEMO_USER_ID}\nSUPABASE_ACCESS_TOKEN=${demo.token}\n` : '');
  const envFile = local('stack.env');
  await writeFile(envFile, env, { mode: 0o600 });
  const signInUrl = dashboard.attach(stack, demo?.token);
  console.log(`
Quantum Forge Data is running.

${env}
Functions:   ${stack.url}/functions/v1/<name>   (health, ingest, query, batches)
${demo ? `Demo user:   ${DEMO_USER_ID} (${demo.created ? 'created' : 'already'} in auth.users); SUPABASE_ACCESS_TOKEN above is its token, valid ${DEMO_TOKEN_TTL_S / 3600} h
` : ''}Use it:      set -a; . ${shown(envFile)}; set +a
             curl $SUPABASE_URL/functions/v1/query/calculations -H "Authorization: Bearer $SUPABASE_ACCESS_TOKEN"
Dashboard:   ${signInUrl}${demo ? `\n             (signs in the demo user for ${DEMO_TOKEN_TTL_S / 3600} h)` : ''}
More users:  npm run -s token -- --user <uuid> --create
Written to ${shown(envFile)}. Ctrl-C stops everything.`);
}

/** The demo user in auth.users and a token for it; undefined (with a warning) where Auth owns the users. */
async function demoUser(stack: Stack): Promise<{ token: string; created: boolean } | undefined> {
  try {
    const created = (await ensureLocalUser(stack.dbUrl, DEMO_USER_ID, DEMO_USER_EMAIL)) === 'created';
    const token = await mintToken({ secret: stack.jwtSecret, role: 'authenticated', sub: DEMO_USER_ID, ttlSeconds: DEMO_TOKEN_TTL_S });
    return { token, created };
  } catch (err) {
    console.error(`No demo user: ${(err as Error).message}`);
    return undefined;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
