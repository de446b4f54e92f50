// Test users: a row in auth.users (as the hosted Auth service would have) and a signed token.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { mintToken } from '../../scripts/stack/keys.ts';
import { adminSql } from './db.ts';

export interface TestUser {
  id: string;
  token: string;
}

export async function newUser(): Promise<TestUser> {
  const { jwtSecret } = inject('stack');
  const id = randomUUID();
  await adminSql()`insert into auth.users (id, email) values (${id}, ${`${id}@test.local`})`;
  return { id, token: await mintToken({ secret: jwtSecret, role: 'authenticated', sub: id }) };
}
