// Isolation: another user can neither see, claim, heartbeat, complete, fail, cancel nor retry your
// items; a runner with a user token claims only that user's items; the service-role key works on
// one named user (user_id) or across users only when it says so (all_users: true).
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { claim, completeMany, createBatch, listBatches } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { itemStates } from './batch-helpers.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('isolation between users', () => {
  it('another user can neither see, claim, heartbeat, complete, fail, cancel nor retry your items', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const { batch } = await createBatch(clientFor(alice.token), { name: 'alice only', items: batchItems(4) });
    await createBatch(clientFor(bob.token), { name: 'bob\'s', items: batchItems(2, 100) });
    const [held] = (await claim(clientFor(alice.token), { runner_id: 'alice-runner', batch_id: batch.id, limit: 1 })).items;
    const itemsBefore = await itemStates(batch.id);
    const countsBefore = await userCounts(alice.id);

    const asBob = (path: string, body?: unknown, method?: string) => call(path, { token: bob.token, body, method });
    expect((await asBob(`batches/${batch.id}`)).status).toBe(404);
    const listed = await listBatches(clientFor(bob.token));
    expect(listed.data.map((b) => b.name)).toEqual(['bob\'s']);
    expect((await asBob('batches/claim', { runner_id: 'bob-runner', batch_id: batch.id })).status).toBe(404);
    // Bob's runner claims Bob's items only, however many Alice has waiting.
    const bobs = await claim(clientFor(bob.token), { runner_id: 'bob-runner', limit: 100 });
    expect(bobs.items).toHaveLength(2);
    expect(bobs.items.every((i) => i.user_id === bob.id)).toBe(true);
    expect((await asBob('batches/heartbeat', { runner_id: 'alice-runner', item_ids: [held.item_id] })).status).toBe(404);
    expect((await asBob('batches/complete', { item_id: held.item_id, runner_id: 'alice-runner', result: resultFor(held) })).status).toBe(404);
    const many = await asBob('batches/complete-many', { runner_id: 'alice-runner', items: [{ item_id: held.item_id, result: resultFor(held) }] });
    expect(many.body.results[0].outcome).toBe('not_found');
    expect((await asBob('batches/fail', { item_id: held.item_id, runner_id: 'alice-runner', error_class: 'crash', message: 'x' })).status).toBe(404);
    expect((await asBob(`batches/${batch.id}/cancel`, undefined, 'POST')).status).toBe(404);
    expect((await asBob(`batches/${batch.id}/retry`, undefined, 'POST')).status).toBe(404);
    expect((await asBob(`batches/${batch.id}/items`, { items: batchItems(1) })).status).toBe(404);
    // A user token cannot ask for everyone's items, nor name another user.
    expect((await asBob('batches/claim', { runner_id: 'bob-runner', all_users: true })).status).toBe(403);
    expect((await asBob('batches/claim', { runner_id: 'bob-runner', user_id: alice.id })).status).toBe(403);
    expect((await asBob(`batches?all_users=true`)).status).toBe(403);

    expect(await itemStates(batch.id)).toEqual(itemsBefore);
    expect(await userCounts(alice.id)).toEqual(countsBefore);
  });
});

describe('the service-role key', () => {
  it('must say whose items: user_id (under RLS) or all_users: true', async () => {
    const { serviceRoleKey } = inject('stack');
    const carol = await newUser();
    const dave = await newUser();
    const service = clientFor(serviceRoleKey);
    const { batch: carolBatch } = await createBatch(service, { user_id: carol.id, name: 'carol via service', items: batchItems(3) });
    expect(carolBatch.user_id).toBe(carol.id);
    const { batch: daveBatch } = await createBatch(clientFor(dave.token), { name: 'dave', items: batchItems(3, 50) });

    const neither = await call('batches/claim', { token: serviceRoleKey, body: { runner_id: 'fleet' } });
    expect(neither.status).toBe(422);
    expect(neither.body.error.details[0].path).toBe('user_id');
    const both = await call('batches/claim', { token: serviceRoleKey, body: { runner_id: 'fleet', user_id: carol.id, all_users: true } });
    expect(both.status).toBe(422);

    // Acting for Carol: Carol's items only, even when asked for Dave's batch.
    const forCarol = await claim(service, { runner_id: 'fleet', user_id: carol.id, limit: 1 });
    expect(forCarol.items.map((i) => i.user_id)).toEqual([carol.id]);
    const notDaves = await call('batches/claim', { token: serviceRoleKey, body: { runner_id: 'fleet', user_id: carol.id, batch_id: daveBatch.id } });
    expect(notDaves.status).toBe(404);

    // Across users, explicitly: both users' items come back, and results are stored as their owners'.
    // Each claim names its batch, so that it takes none of the items other tests have waiting
    // (priority does not put these first: the fleet deals in turns across all users).
    const mine = [
      ...(await claim(service, { runner_id: 'fleet', all_users: true, batch_id: carolBatch.id, limit: 2 })).items,
      ...(await claim(service, { runner_id: 'fleet', all_users: true, batch_id: daveBatch.id, limit: 3 })).items,
    ];
    expect(new Set(mine.map((i) => i.batch_id))).toEqual(new Set([carolBatch.id, daveBatch.id]));
    expect(new Set(mine.map((i) => i.user_id))).toEqual(new Set([carol.id, dave.id]));
    expect(mine).toHaveLength(5);
    const done = await completeMany(service, {
      runner_id: 'fleet', all_users: true, items: mine.map((it) => ({ item_id: it.item_id, result: resultFor(it) })),
    });
    expect(done.counts.completed).toBe(5);
    const owners = await adminSql()`
      select k.user_id, i.user_id as item_user from public.calculations k join public.batch_items i on i.calculation_id = k.id
       where i.batch_job_id in (${carolBatch.id}, ${daveBatch.id})`;
    expect(owners).toHaveLength(5);
    expect(owners.every((o) => o.user_id === o.item_user)).toBe(true);

    // Listing across users needs the same explicit flag.
    expect((await call('batches', { token: serviceRoleKey })).status).toBe(400);
    const all = await listBatches(service, { all_users: true, limit: 200 });
    expect(all.data.map((b) => b.id)).toEqual(expect.arrayContaining([carolBatch.id, daveBatch.id]));
    const carolsOnly = await listBatches(service, { user_id: carol.id });
    expect(carolsOnly.data.map((b) => b.id)).toEqual([carolBatch.id]);
  });
});
