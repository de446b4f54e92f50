// Direct SQL for tests: as the database owner to check what was stored, and as a user through the
// same claims-and-role transaction the functions use (API_ROLE), to check RLS.
import postgres from 'postgres';
import { inject } from 'vitest';
import { API_ROLE as FUNCTIONS_ROLE, switchCaller, type Tx } from '../../supabase/functions/_shared/db.ts';

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
  return adminSql().begin(async (tx) => {
    await actAs(tx, role, userId);
    return work(tx);
  }) as Promise<T>;
}

/**
 * Makes the rest of an open transaction (`tx`, or a reserved connection after `begin`) run as
 * `role` with the user's claims, by the functions' own switchCaller. Also for benchmarks, on any
 * server.
 */
export function actAs(tx: postgres.TransactionSql | postgres.ReservedSql, role: Role, userId?: string, opts: { statementTimeoutMs?: number } = {}): Promise<void> {
  const tokenRole = role === API_ROLE ? 'authenticated' : role;
  const claims = userId ? { role: tokenRole, sub: userId } : { role: tokenRole };
  return switchCaller(tx as Tx, { role, claims }, opts.statementTimeoutMs);
}
