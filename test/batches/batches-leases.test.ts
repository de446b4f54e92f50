// Leases: a runner that vanishes loses its items when the lease runs out (no cron: the next claim
// takes them), another runner completes them, and the first runner's late complete gets 409 with
// nothing written. Heartbeats extend what a runner holds and report what it lost. Leases are
// expired here by moving lease_expires_at into the past rather than by waiting.
import { describe, expect, it } from 'vitest';
import { claim, complete, createBatch, fail, getBatch, heartbeat } from '../../shared/client-batches.ts';
import { QfApiError } from '../../shared/client.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { countersAndCounts, expireLeases, itemStates } from './batch-helpers.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('a runner that vanishes', () => {
  it('loses its items after the lease; another runner completes them; its late complete gets 409 and writes nothing', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'vanishing', items: batchItems(3) });

    const first = await claim(client, { runner_id: 'ghost', batch_id: batch.id, limit: 10, lease_seconds: 30 });
    expect(first.items).toHaveLength(3);
    expect(new Date(first.items[0].lease_expires_at).getTime() - Date.now()).toBeGreaterThan(20_000);
    // Nothing is claimable while the leases run.
    expect((await claim(client, { runner_id: 'rescuer', batch_id: batch.id })).items).toEqual([]);

    await expireLeases(batch.id);
    const second = await claim(client, { runner_id: 'rescuer', batch_id: batch.id, limit: 10, lease_seconds: 300 });
    expect(second.items.map((i) => i.item_id).sort()).toEqual(first.items.map((i) => i.item_id).sort());
    expect(second.items.every((i) => i.attempt === 2)).toBe(true);

    // The ghost's heartbeat now says the items are someone else's.
    const hb = await heartbeat(client, { runner_id: 'ghost', item_ids: first.items.map((i) => i.item_id) });
    expect(hb.held).toEqual([]);
    expect(hb.lost.map((l) => l.reason)).toEqual(['claimed_by_another_runner', 'claimed_by_another_runner', 'claimed_by_another_runner']);

    for (const it of second.items) await complete(client, { item_id: it.item_id, runner_id: 'rescuer', result: resultFor(it) });
    const before = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${user.id}`;

    // The ghost comes back with a different result for the same item: 409, nothing stored.
    const late = await call('batches/complete', {
      token: user.token,
      body: { item_id: first.items[0].item_id, runner_id: 'ghost', result: resultFor(first.items[0], { energy: -99 }) },
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');
    const after = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    expect(after[0].n).toBe(before[0].n);

    const states = await itemStates(batch.id);
    for (const s of states) {
      expect(s).toMatchObject({ status: 'completed', attempts: 2, claimed_by: 'rescuer' });
      expect(s.attempt_history.map((a) => [a.attempt, a.runner, a.outcome])).toEqual([[1, 'ghost', 'lease_expired'], [2, 'rescuer', 'completed']]);
      expect(s.attempt_history[0].ended_at).not.toBeNull();
    }
    const [calc] = await adminSql()`select total_energy_eh, batch_item_id, source from public.calculations where id = ${states[0].calculation_id}`;
    expect(calc.total_energy_eh).not.toBe(-99);
    expect(calc).toMatchObject({ batch_item_id: states[0].id, source: 'runner:rescuer' });

    const progress = await getBatch(client, batch.id);
    expect(progress.batch).toMatchObject({ status: 'completed', completed_items: 3, claimed_items: 0 });
    expect(progress.batch.progress.percent_done).toBe(100);
    const { counters, counted } = await countersAndCounts(batch.id);
    expect(counters).toEqual(counted);
  });

  it('a runner may still complete or fail an expired lease that nobody took yet', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'slow', items: batchItems(2) });
    const { items: got } = await claim(client, { runner_id: 'slow', batch_id: batch.id, limit: 2 });
    await expireLeases(batch.id);
    // The heartbeat renews it: nobody else holds it.
    const hb = await heartbeat(client, { runner_id: 'slow', item_ids: [got[0].item_id], lease_seconds: 60 });
    expect(hb.held.map((h) => h.item_id)).toEqual([got[0].item_id]);
    expect(new Date(hb.held[0].lease_expires_at).getTime()).toBeGreaterThan(Date.now() + 30_000);
    await expireLeases(batch.id);
    const done = await complete(client, { item_id: got[0].item_id, runner_id: 'slow', result: resultFor(got[0]) });
    expect(done).toMatchObject({ status: 'completed', already_completed: false, outcome: 'created' });
    const failed = await fail(client, { item_id: got[1].item_id, runner_id: 'slow', error_class: 'crash', message: 'segfault' });
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, max_attempts: 3 });
    // A retried complete (the response was lost) is answered again, without writing.
    const again = await complete(client, { item_id: got[0].item_id, runner_id: 'slow', result: resultFor(got[0]) });
    expect(again).toMatchObject({ already_completed: true, calculation_id: done.calculation_id });
  });

  it('an item whose last attempt\'s lease expires fails instead of being claimed again', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'doomed', max_attempts: 2, items: batchItems(1) });
    for (const runner of ['a', 'b']) {
      expect((await claim(client, { runner_id: runner, batch_id: batch.id })).items).toHaveLength(1);
      await expireLeases(batch.id);
    }
    expect((await claim(client, { runner_id: 'c', batch_id: batch.id })).items).toEqual([]);
    const [s] = await itemStates(batch.id);
    expect(s).toMatchObject({ status: 'failed', attempts: 2 });
    expect(s.attempt_history.map((a) => [a.runner, a.outcome])).toEqual([['a', 'lease_expired'], ['b', 'lease_expired']]);
    const page = await getBatch(client, batch.id);
    expect(page.batch.status).toBe('failed');
    expect(page.items[0].last_error).toMatch(/lease expired/);
  });

  it('heartbeat keeps what the runner holds and reports what it no longer holds, and why', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'beats', items: batchItems(5) });
    const { items: got } = await claim(client, { runner_id: 'r', batch_id: batch.id, limit: 5, lease_seconds: 30 });
    const [keep, done, failed, taken, retried] = got;
    await complete(client, { item_id: done.item_id, runner_id: 'r', result: resultFor(done) });
    await fail(client, { item_id: failed.item_id, runner_id: 'r', error_class: 'invalid_input', message: 'bad geometry' });
    await adminSql()`update public.batch_items set lease_expires_at = now() - interval '1 second' where id = ${taken.item_id}`;
    expect((await claim(client, { runner_id: 'other', batch_id: batch.id, limit: 1 })).items.map((i) => i.item_id)).toEqual([taken.item_id]);
    await fail(client, { item_id: retried.item_id, runner_id: 'r', error_class: 'timeout', message: 'too slow' });

    const hb = await heartbeat(client, { runner_id: 'r', item_ids: got.map((i) => i.item_id), lease_seconds: 600 });
    expect(hb.held.map((h) => h.item_id)).toEqual([keep.item_id]);
    expect(new Date(hb.held[0].lease_expires_at).getTime()).toBeGreaterThan(Date.now() + 500_000);
    const lost = Object.fromEntries(hb.lost.map((l) => [l.item_id, [l.status, l.reason]]));
    expect(lost).toEqual({
      [done.item_id]: ['completed', 'completed'],
      [failed.item_id]: ['failed', 'failed'],
      [taken.item_id]: ['claimed', 'claimed_by_another_runner'],
      [retried.item_id]: ['pending', 'returned_to_pending'],
    });
    // The stale holder's complete and fail both get 409.
    const c409 = await complete(client, { item_id: taken.item_id, runner_id: 'r', result: resultFor(taken) }).catch((e: QfApiError) => e);
    expect((c409 as QfApiError).status).toBe(409);
    const f409 = await fail(client, { item_id: taken.item_id, runner_id: 'r', error_class: 'crash', message: 'x' }).catch((e: QfApiError) => e);
    expect((f409 as QfApiError).status).toBe(409);
  });
});
