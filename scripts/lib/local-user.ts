// Users of the local stack. On a hosted project, Supabase Auth creates users (sign-up, the dashboard,
// `auth.admin.createUser`); locally there is no Auth service, only the minimal auth.users of
// supabase/bootstrap/local-platform.sql, so `npm start` (the demo user) and
// `npm run token -- --user <uuid> --create` insert the row themselves. Idempotent.
import postgres from 'postgres';

/** The user `npm start` creates and mints a token for (QF_DEMO_USER_ID in .local/stack.env). */
export const DEMO_USER_ID = 'de300000-0000-4000-8000-000000000001';
export const DEMO_USER_EMAIL = 'demo@localhost';

/** How long the demo token printed by `npm start` stays valid. */
export const DEMO_TOKEN_TTL_S = 24 * 3600;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The database holds Supabase Auth's own auth.users (a hosted project): users are Auth's to create. */
export class HostedAuthError extends Error {
  override name = 'HostedAuthError';
}

/**
 * Inserts the user into auth.users unless it is there. Refuses a database whose auth.users is
 * Supabase Auth's (it has `instance_id`): a row written behind Auth's back is not a real user.
 */
export async function ensureLocalUser(dbUrl: string, id: string, email: string | null = null): Promise<'created' | 'exists'> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [{ hosted }] = await sql<{ hosted: boolean }[]>`
      select exists (select 1 from information_schema.columns
                     where table_schema = 'auth' and table_name = 'users' and column_name = 'instance_id') as hosted`;
    if (hosted) {
      throw new HostedAuthError('this database has Supabase Auth\'s auth.users (a hosted project?): create users with Supabase Auth (sign-up, the dashboard or auth.admin.createUser), not here');
    }
    const inserted = await sql`
      insert into auth.users (id, email) values (${id.toLowerCase()}, ${email})
      on conflict (id) do nothing
      returning id`;
    return inserted.length > 0 ? 'created' : 'exists';
  } finally {
    await sql.end();
  }
}
