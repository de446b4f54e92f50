// Direct SQL for tests: as the database owner to check what was stored, and as a user through the
// same claims-and-role transaction the functions use, to check RLS.
import postgres from 'postgres';
import { inject } from 'vitest';

let admin: postgres.Sql | undefined;

/** The owner's connection (bypasses RLS): only for checking what was stored. */
export function adminSql(): postgres.Sql {
  admin ??= postgres(inject('stack').dbUrl, { max: 4, onnotice: () => {} });
  return admin;
}

export type Role = 'anon' | 'authenticated' | 'service_role';

/** Runs `work` as a Data API role with the given user's claims, exactly as the functions do. */
export function asRole<T>(role: Role, userId: string | undefined, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  const claims = JSON.stringify(userId ? { role, sub: userId } : { role });
  return adminSql().begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('role', ${role}, true)`;
    return work(tx);
  }) as Promise<T>;
}
