// `npm run -s token -- --user <uuid> [--create] [--role authenticated|anon|service_role] [--ttl 3600]`:
// prints a JWT signed with the local stack's secret (SUPABASE_JWT_SECRET or .local/stack.env), and
// nothing else on stdout, so `TOK=$(npm run -s token -- --user …)` captures just the token. With
// --create it first inserts the user into the local auth.users (SUPABASE_DB_URL) when missing.
import { cliArgs, exitOnCliError, UsageError } from './lib/cli-args.ts';
import { ensureLocalUser, HostedAuthError, UUID } from './lib/local-user.ts';
import { mintToken, type Role } from './stack/keys.ts';
import { loadStackEnv } from './stack/stack-env.ts';

const USAGE = [
  'usage: npm run -s token -- --user <uuid> [--create] [--role authenticated|anon|service_role] [--ttl seconds]',
  '  --user UUID   the user the token acts as (its `sub`); required for the authenticated role',
  '  --create      first add the user to the local stack\'s auth.users if it is not there',
  '                (local only: on a hosted project, Supabase Auth creates users)',
  '  --role ROLE   authenticated (default), anon or service_role',
  '  --ttl S       seconds until the token expires (default 3600)',
  '  -h, --help    print this help',
  'Prints only the token on stdout (messages go to stderr): TOK=$(npm run -s token -- --user <uuid>).',
  'Reads SUPABASE_JWT_SECRET, and SUPABASE_DB_URL for --create, from the environment or .local/stack.env.',
].join('\n');

const say = (line: string) => process.stderr.write(`token: ${line}\n`);
const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

async function main(): Promise<void> {
  const { values } = cliArgs('token', USAGE, process.argv.slice(2), {
    allowPositionals: false,
    options: {
      user: { type: 'string' },
      create: { type: 'boolean', default: false },
      role: { type: 'string', default: 'authenticated' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const role = values.role as Role;
  if (!['authenticated', 'anon', 'service_role'].includes(role)) throw new UsageError(`--role must be authenticated, anon or service_role, not ${JSON.stringify(values.role)}`);
  if (values.user !== undefined && !UUID.test(values.user)) throw new UsageError(`--user must be a UUID, not ${JSON.stringify(values.user)}`);
  if (role === 'authenticated' && !values.user) throw new UsageError('--user is required (a UUID) for a user token');
  if (values.create && !values.user) throw new UsageError('--create needs --user');
  const ttl = Number(values.ttl);
  if (!/^\d+$/.test(values.ttl) || !Number.isSafeInteger(ttl) || ttl <= 0) throw new UsageError(`--ttl must be a positive whole number of seconds, not ${JSON.stringify(values.ttl)}`);

  const env = { ...(await loadStackEnv()), ...process.env };
  const secret = env.SUPABASE_JWT_SECRET;
  if (!secret) throw new UsageError('no SUPABASE_JWT_SECRET: start the stack with `npm start` (it writes .local/stack.env), or set it');
  const user = values.user?.toLowerCase();
  if (values.create && user) {
    const dbUrl = env.SUPABASE_DB_URL || env.DATABASE_URL;
    if (!dbUrl) throw new UsageError('--create needs the database: no SUPABASE_DB_URL; start the stack with `npm start`, or set it');
    const done = await ensureLocalUser(dbUrl, user).catch((err) => {
      if ((err as { code?: string }).code === 'ECONNREFUSED') {
        throw new Error(`the database is not reachable at ${redact(dbUrl)}: start the stack with \`npm start\``);
      }
      throw err;
    });
    say(done === 'created' ? `created user ${user} in auth.users` : `user ${user} already exists`);
  }
  process.stdout.write(`${await mintToken({ secret, role, sub: user, ttlSeconds: ttl })}\n`);
}

main().catch((err) => {
  exitOnCliError(err, 'token', USAGE);
  if (err instanceof HostedAuthError) say(err.message);
  else say(`${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});
