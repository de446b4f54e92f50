// Fair sharing of the runner fleet: an all-users claim deals items to users in turns, and a user's
// priority orders only that user's own items. A user with 10,000 items at priority 1,000 does not
// hold the fleet against a user with one item at priority 0.
//
// Every claim here is for a method no other test's batches use (GFN0-xTB), so that the users in
// turn are this file's users only, whatever other test files have waiting at the same time; and
// each test cancels its batches after it, so that the next one starts with none waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { claim, createBatch } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { batchItems } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

const method = 'GFN0-xTB';
const fleet = () => clientFor(inject('stack').serviceRoleKey);
const created: string[] = [];
const create = async (token: string, req: Parameters<typeof createBatch>[1]) => {
  const { batch } = await createBatch(clientFor(token), req);
  created.push(batch.id);
  return batch;
};
// Directly: cancelling 10,000 items at once may take more than a request's statement timeout.
afterEach(async () => {
  await adminSql()`update public.batch_jobs set status = 'cancelled' where id = any (${created}::uuid[]) and status in ('pending', 'running')`;
  created.length = 0;
});
const claimAcross = (runner: string, limit: number) =>
  claim(fleet(), { runner_id: runner, all_users: true, methods: [method], limit, lease_seconds: 600 });

describe('fair sharing across users', () => {
  it('one item at priority 0 is among the first claims, though another user has 10,000 at priority 1,000', async () => {
    const u1 = await newUser();
    const u2 = await newUser();
    const LIMIT = 10;
    const USERS = 2;
    const flood = await create(u1.token, { name: 'flood', method, priority: 1000, items: batchItems(10_000) });
    expect(flood.total_items).toBe(10_000);
    const lone = await create(u2.token, { name: 'lone', method, priority: 0, items: batchItems(1) });

    // Claims until users × claim size items are out, or U2's item is.
    const claimed: ClaimedItem[] = [];
    while (claimed.length < USERS * LIMIT && !claimed.some((i) => i.user_id === u2.id)) {
      const { items } = await claimAcross('fair-fleet', LIMIT);
      expect(items.length).toBeGreaterThan(0);
      claimed.push(...items);
    }
    const u2Items = claimed.filter((i) => i.user_id === u2.id);
    expect(u2Items.map((i) => i.batch_id)).toEqual([lone.id]);
    // Each user got a turn in the first claim (an equal share of it): U2's item came with it,
    // beside U1's first ones, which still go in U1's order (one batch: creation order).
    const u1Names = claimed.filter((i) => i.user_id === u1.id).map((i) => i.name);
    expect(claimed.length).toBe(1 + LIMIT / USERS);
    expect(u1Names).toEqual(Array.from({ length: LIMIT / USERS }, (_, k) => `item ${k}`));
  }, 120_000);

  it('with more users than a claim\'s size, the users least recently served come first', async () => {
    const users = [await newUser(), await newUser(), await newUser()];
    for (const [k, user] of users.entries()) {
      // The first user's items have the highest priority and are the oldest: neither counts across users.
      await create(user.token, { name: `turns ${k}`, method, priority: 1000 - k * 100, items: batchItems(4) });
    }
    const served: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const { items } = await claimAcross('turn-fleet', 1);
      expect(items).toHaveLength(1);
      served.push(items[0].user_id);
    }
    // Every user once in each run of three claims.
    const ids = users.map((u) => u.id);
    expect(new Set(served.slice(0, 3))).toEqual(new Set(ids));
    expect(new Set(served.slice(3, 6))).toEqual(new Set(ids));
    expect(served.slice(3, 6)).toEqual(served.slice(0, 3));
  }, 120_000);

  it('a user whose waiting items are all under live leases does not hold the turn', async () => {
    const held = await newUser();
    const others = [await newUser(), await newUser()];
    await create(held.token, { name: 'held', method, items: batchItems(1) });
    // The held user's one item goes out first (its first turn), under a lease that outlives the test.
    const first = await claimAcross('held-fleet', 1);
    expect(first.items.map((i) => i.user_id)).toEqual([held.id]);
    for (const [k, user] of others.entries()) await create(user.token, { name: `after ${k}`, method, items: batchItems(2) });
    // Four claims of one item each: every one hands out an item (the held user, with nothing
    // claimable, takes at most one turn and goes to the back), two for each of the others.
    const served: string[] = [];
    for (let round = 0; round < 6 && served.length < 4; round += 1) {
      const { items } = await claimAcross('held-fleet', 1);
      served.push(...items.map((i) => i.user_id));
    }
    expect(served.sort()).toEqual([others[0].id, others[0].id, others[1].id, others[1].id].sort());
  }, 120_000);

  it('runners claiming across users at the same time never receive the same item', async () => {
    const users = [await newUser(), await newUser(), await newUser()];
    for (const [k, user] of users.entries()) {
      await create(user.token, { name: `crowd ${k}`, method, items: batchItems(40, k * 100) });
    }
    const seen = new Map<string, number>();
    const runner = async (name: string) => {
      for (;;) {
        const { items } = await claimAcross(name, 7);
        if (items.length === 0) return;
        for (const it of items) seen.set(it.item_id, (seen.get(it.item_id) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, r) => runner(`crowd-${r}`)));
    expect(seen.size).toBe(120);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
