// A write for a user that auth.users does not hold (a token minted for any uuid, before the user
// exists): 422 naming the user and how to create it, locally and on a hosted project, though the
// request sent no user_id. Then `npm run token -- --user <uuid> --create` makes the same write work.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { ensureLocalUser } from '../../scripts/lib/local-user.ts';
import { mintToken } from '../../scripts/stack/keys.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';

const expectUnknownUser = (r: { status: number; body: any }, id: string) => {
  expect(r.status, JSON.stringify(r.body)).toBe(422);
  expect(r.body.error.code).toBe('unprocessable_entity');
  expect(r.body.error.message).toBe(
    `no such user: user ${id} (the token's user) is not in this project's auth.users. ` +
    `On the local stack, create it with \`npm run token -- --user ${id} --create\`; ` +
    'on a hosted project, users are created by Supabase Auth (sign-up or the dashboard).');
  // The uploader stops on this detail (it would fail every request alike).
  expect(r.body.error.details).toEqual([{ path: 'user_id', issue: 'no such user' }]);
};

describe('a user the database does not know', () => {
  it('with the service-role key, the message points at user_id', async () => {
    const r = await call('ingest', { token: inject('stack').serviceRoleKey, body: { user_id: randomUUID(), calculations: [calc()] } });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/^no such user: the user named by user_id is not in this project's auth\.users\. On the local stack, create it with `npm run token -- --user <user_id> --create`; on a hosted project/);
  });

  it('ingest and batches say so and say how to create the user; once created, the same writes work', async () => {
    const id = randomUUID();
    const token = await mintToken({ secret: inject('stack').jwtSecret, role: 'authenticated', sub: id });
    const ingest = () => call('ingest', { token, body: { calculations: [calc()] } });
    const batch = () => call('batches', { token, body: { name: 'first', items: [{ smiles: 'O' }] } });
    expectUnknownUser(await ingest(), id);
    expectUnknownUser(await batch(), id);

    expect(await ensureLocalUser(inject('stack').dbUrl, id)).toBe('created');
    expect(await ensureLocalUser(inject('stack').dbUrl, id)).toBe('exists');
    expect((await ingest()).status).toBe(200);
    expect((await batch()).status).toBe(201);
  });
});
