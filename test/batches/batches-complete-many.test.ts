// POST /batches/complete-many: several results of one runner in one transaction, each with its own
// outcome; the ones not completed get nothing written, and a repeated request changes nothing.
import { describe, expect, it } from 'vitest';
import { claim, complete, completeMany, createBatch, getBatch } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { countersAndCounts, itemStates } from './batch-helpers.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('complete-many', () => {
  it('gives each item its own outcome and writes only the completed ones', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'many', items: batchItems(5) });
    const { items: got } = await claim(client, { runner_id: 'r', batch_id: batch.id, limit: 5 });
    const [a, b, wrong, taken, spare] = got;
    await adminSql()`update public.batch_items set lease_expires_at = now() - interval '1 second' where id = ${taken.item_id}`;
    expect((await claim(client, { runner_id: 'other', batch_id: batch.id, limit: 1 })).items[0].item_id).toBe(taken.item_id);

    const request = {
      runner_id: 'r',
      items: [
        { item_id: a.item_id, result: resultFor(a) },
        { item_id: b.item_id, result: resultFor(b) },
        { item_id: wrong.item_id, result: { ...resultFor(wrong), task: 'opt' as const } },
        { item_id: taken.item_id, result: resultFor(taken) },
        { item_id: '00000000-0000-4000-8000-000000000000', result: resultFor(spare) },
      ],
    };
    const first = await completeMany(client, request);
    expect(first.results.map((r) => r.outcome)).toEqual(['completed', 'completed', 'invalid', 'not_held', 'not_found']);
    expect(first.counts).toEqual({ completed: 2, already_completed: 0, not_found: 1, not_held: 1, invalid: 1 });
    expect(first.results[2].errors).toEqual([{ path: 'items[2].result.task', issue: 'is "opt"; the item\'s is "sp"' }]);
    expect(first.results[0]).toMatchObject({ status: 'completed', stored: 'created' });

    const states = new Map((await itemStates(batch.id)).map((s) => [s.id, s]));
    expect(states.get(a.item_id)!.status).toBe('completed');
    expect(states.get(b.item_id)!.calculation_id).toBe(first.results[1].calculation_id);
    expect(states.get(wrong.item_id)).toMatchObject({ status: 'claimed', claimed_by: 'r', calculation_id: null });
    expect(states.get(taken.item_id)).toMatchObject({ status: 'claimed', claimed_by: 'other', calculation_id: null });
    const [{ n }] = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    expect(n).toBe(2);

    // The same request again (a retry after a lost response): nothing new is written.
    const second = await completeMany(client, request);
    expect(second.results.map((r) => r.outcome)).toEqual(['already_completed', 'already_completed', 'invalid', 'not_held', 'not_found']);
    expect(second.results[0].calculation_id).toBe(first.results[0].calculation_id);
    const [{ m }] = await adminSql()`select count(*)::int as m from public.calculations where user_id = ${user.id}`;
    expect(m).toBe(2);
    expect((await getBatch(client, batch.id)).batch).toMatchObject({ completed_items: 2, claimed_items: 3 });
    const { counters, counted } = await countersAndCounts(batch.id);
    expect(counters).toEqual(counted);
  });

  it('links an item to a calculation that was already stored (a duplicate result)', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'known', items: batchItems(1) });
    const [it] = (await claim(client, { runner_id: 'r', batch_id: batch.id })).items;
    const [earlier] = await client.ingest([resultFor(it)]);
    expect(earlier.outcome).toBe('created');

    const done = await complete(client, { item_id: it.item_id, runner_id: 'r', result: resultFor(it) });
    expect(done).toMatchObject({ outcome: 'duplicate', calculation_id: earlier.calculation_id, already_completed: false });
    const [calc] = await adminSql()`select batch_item_id from public.calculations where id = ${earlier.calculation_id}`;
    expect(calc.batch_item_id).toBe(it.item_id);
    const [{ n }] = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    expect(n).toBe(1);
  });
});
