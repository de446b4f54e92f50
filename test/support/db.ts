// Direct SQL for tests: as the database owner to check what was stored, and as a user through the
// same claims-and-role transaction the functions use (API_ROLE), to check RLS.
import postgres from 'postgres';
import { inject } from 'vitest';
import { API_ROLE as FUNCTIONS_ROLE } from '../../supabase/functions/_shared/db.ts';

let admin: postgres.Sql | undefined;

/** The owner's connection (bypasses RLS): only for checking what was stored. */
export function adminSql(): postgres.Sql {
  admin ??= postgres(inject('stack').dbUrl, { max: 4, onnotice: () => {} });
  return admin;
}

/** The role the functions run a user's requests as; the Data API's `authenticated` holds nothing. */
export const API_ROLE = FUNCTIONS_ROLE;

export type Role = 'anon' | 'authenticated' | 'service_role' | typeof API_ROLE;

/**
 * Runs `work` as a database role with the given user's claims. API_ROLE is how the functions run a
 * user's request (withCaller, with the claims of a user's token); `authenticated` and `anon` are
 * what PostgREST would switch to for a token naming them.
 */
export function asRole<T>(role: Role, userId: string | undefined, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  const tokenRole = role === API_ROLE ? 'authenticated' : role;
  const claims = JSON.stringify(userId ? { role: tokenRole, sub: userId } : { role: tokenRole });
  return adminSql().begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('role', ${role}, true)`;
    return work(tx);
  }) as Promise<T>;
}
