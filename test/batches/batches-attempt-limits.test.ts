// Bounded attempts: an item is claimed at most the attempt limit times in all (20 here: the
// default, as the test stack sets no qf.max_item_attempts), across rounds started by POST
// /:id/retry and across expired leases; past it the item fails for good, a retry leaves it failed
// (409 once nothing else could be retried; its last_error said why when it failed), and attempt_history keeps only the last 10 attempts
// while total_attempts counts every one.
import { describe, expect, it } from 'vitest';
import { claim, createBatch, fail, getBatch, retry } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { call } from '../support/http.ts';
import { batchItems } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';
import { expireLeases } from './batch-helpers.ts';

const LIMIT = 20;
const HISTORY = 10;

describe('attempt limit', () => {
  it('retries stop at the limit in all: the automatic ones, then POST /:id/retry (409)', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    // A round of 15: the first round fails at 15, the retried one is cut at 20 in all, mid-round.
    const { batch } = await createBatch(client, { name: 'stubborn', max_attempts: 15, items: batchItems(1) });
    const failUntilDone = async (): Promise<string[]> => {
      const statuses: string[] = [];
      for (;;) {
        const { items } = await claim(client, { runner_id: 'r', batch_id: batch.id });
        if (items.length === 0) return statuses;
        const r = await fail(client, { item_id: items[0].item_id, runner_id: 'r', error_class: 'crash', message: `crash ${statuses.length + 1}` });
        statuses.push(r.status);
      }
    };

    expect(await failUntilDone()).toEqual([...Array(14).fill('pending'), 'failed']);
    expect(await retry(client, batch.id)).toMatchObject({ retried_items: 1, exhausted_items: 0 });
    expect(await failUntilDone()).toEqual([...Array(4).fill('pending'), 'failed']);

    const [item] = (await getBatch(client, batch.id)).items;
    expect(item).toMatchObject({ status: 'failed', attempts: 5, total_attempts: LIMIT });
    expect(item.last_error).toBe(`crash: crash 5 (attempt limit: ${LIMIT} attempts in all)`);
    // The last 10 of 20: the first round's last 5, then the second round's 5.
    expect(item.attempt_history.map((a) => a.attempt)).toEqual([11, 12, 13, 14, 15, 1, 2, 3, 4, 5]);
    expect(item.attempt_history.every((a) => a.outcome === 'crash' && a.ended_at !== null)).toBe(true);

    const refused = await call(`batches/${batch.id}/retry`, { token: user.token, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', details: [{ path: 'items' }] });
    expect(refused.body.error.message).toMatch(/attempt limit/);
    const after = (await getBatch(client, batch.id)).items[0];
    expect(after).toMatchObject({ status: 'failed', total_attempts: LIMIT, last_error: item.last_error });
    // The item is not claimable either.
    expect((await claim(client, { runner_id: 'r', batch_id: batch.id })).items).toEqual([]);
  }, 120_000);

  it('a retry answers per batch: items still under the limit go back, exhausted ones stay failed', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'mixed', max_attempts: LIMIT, items: batchItems(2) });
    const [worn, fresh] = (await getBatch(client, batch.id)).items;
    // worn fails 20 times (its whole round, the limit); fresh fails once with invalid_input.
    for (let k = 0; k < LIMIT; k += 1) {
      const { items } = await claim(client, { runner_id: 'r', batch_id: batch.id, limit: 2 });
      for (const it of items) {
        await fail(client, { item_id: it.item_id, runner_id: 'r', error_class: it.item_id === fresh.id ? 'invalid_input' : 'timeout', message: 'no' });
      }
    }
    const res = await retry(client, batch.id);
    expect(res).toMatchObject({ retried_items: 1, exhausted_items: 1 });
    const byId = new Map((await getBatch(client, batch.id)).items.map((i) => [i.id, i]));
    expect(byId.get(worn.id)).toMatchObject({ status: 'failed', total_attempts: LIMIT, last_error: `timeout: no (attempt limit: ${LIMIT} attempts in all)` });
    expect(byId.get(worn.id)!.attempt_history).toHaveLength(HISTORY);
    expect(byId.get(fresh.id)).toMatchObject({ status: 'pending', attempts: 0, total_attempts: 1 });
  }, 120_000);

  it('expired leases count: the claim after the limit fails the item instead of handing it out', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'vanishing runners', max_attempts: 100, items: batchItems(1) });
    for (let k = 1; k <= LIMIT; k += 1) {
      const { items } = await claim(client, { runner_id: `gone-${k}`, batch_id: batch.id, lease_seconds: 30 });
      expect(items.map((i) => i.attempt)).toEqual([k]);
      await expireLeases(batch.id);
    }
    expect((await claim(client, { runner_id: 'late', batch_id: batch.id })).items).toEqual([]);
    const [item] = (await getBatch(client, batch.id)).items;
    expect(item).toMatchObject({
      status: 'failed', attempts: LIMIT, total_attempts: LIMIT,
      last_error: `lease expired: runner gone-${LIMIT} did not report attempt ${LIMIT} (attempt limit: ${LIMIT} attempts in all)`,
    });
    expect(item.attempt_history).toHaveLength(HISTORY);
    expect(item.attempt_history.map((a) => a.runner)).toEqual(Array.from({ length: HISTORY }, (_, k) => `gone-${LIMIT - HISTORY + k + 1}`));
    expect(item.attempt_history.every((a) => a.outcome === 'lease_expired')).toBe(true);
  }, 120_000);
});
