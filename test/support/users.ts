// Users as the hosted Auth service would have them (a row in auth.users and a signed token), and
// the settings a CLI acts with: as a user, or with the service-role key.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { inject } from 'vitest';
import { mintToken } from '../../scripts/stack/keys.ts';
import { adminSql } from './db.ts';

export interface TestUser {
  id: string;
  token: string;
}

/** A row in auth.users of the database behind `sql`: the given id, or a new one; kept when it is there. */
export async function insertUser(sql: postgres.Sql, id: string = randomUUID()): Promise<string> {
  await sql`insert into auth.users (id, email) values (${id}, ${`${id}@test.local`}) on conflict (id) do nothing`;
  return id;
}

/** A new user of the database behind `sql`, with a token signed by `jwtSecret` (any stack, benchmarks too). */
export async function createUser(sql: postgres.Sql, jwtSecret: string): Promise<TestUser> {
  const id = await insertUser(sql);
  return { id, token: await mintToken({ secret: jwtSecret, role: 'authenticated', sub: id }) };
}

/** A new user of the shared test stack. */
export function newUser(): Promise<TestUser> {
  return createUser(adminSql(), inject('stack').jwtSecret);
}

type StackAddress = { url: string; serviceRoleKey: string };

/** A CLI's settings to act as the user whose token this is: the shared test stack unless another is given. */
export function userEnv(token: string, stack: Pick<StackAddress, 'url'> = inject('stack')): Record<string, string> {
  return { SUPABASE_URL: stack.url, SUPABASE_ACCESS_TOKEN: token };
}

/** A CLI's settings with the service-role key: the shared test stack unless another is given. */
export function serviceEnv(stack: StackAddress = inject('stack')): Record<string, string> {
  return { SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey };
}
