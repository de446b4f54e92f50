// `npm run token -- --user <uuid> [--role authenticated|anon|service_role] [--ttl 3600]`:
// prints a JWT signed with the local stack's secret (SUPABASE_JWT_SECRET or .local/stack.env).
import { parseArgs } from 'node:util';
import { mintToken, type Role } from './stack/keys.ts';
import { loadStackEnv } from './stack/stack-env.ts';

const USAGE = 'usage: npm run token -- --user <uuid> [--role authenticated|anon|service_role] [--ttl seconds]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      user: { type: 'string' },
      role: { type: 'string', default: 'authenticated' },
      ttl: { type: 'string', default: '3600' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const role = values.role as Role;
if (!['authenticated', 'anon', 'service_role'].includes(role)) fail(`unknown role ${values.role}`);
if (role === 'authenticated' && !UUID.test(values.user ?? '')) fail('--user must be a UUID');
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');

const env = { ...(await loadStackEnv()), ...process.env };
const secret = env.SUPABASE_JWT_SECRET;
if (!secret) fail('no SUPABASE_JWT_SECRET: run `npm start` first, or set it');
console.log(await mintToken({ secret, role, sub: values.user, ttlSeconds: ttl }));
