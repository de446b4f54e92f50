// Two runners at once on 30 small molecules, with the service-role key and --batch: each item is
// done once (one attempt, one calculation) and both runners do some of the work. The same 30 with
// one runner are timed too; the times are printed, not asserted (the machine may be busy).
import { beforeAll, expect, it } from 'vitest';
import { createBatch } from '../../shared/client-batches.ts';
import { countersAndCounts, itemStates, type ItemState } from '../batches/batch-helpers.ts';
import type { ChildRun } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { batchItem } from '../support/payloads.ts';
import { newUser, serviceEnv } from '../support/users.ts';
import { describeWithXtb, itemLines, runRunner } from './helpers.ts';

const N = 30;

describeWithXtb('two runners at once on 30 small molecules', () => {
  let one: ChildRun;
  let two: ChildRun[];
  let twoSeconds: number;
  let states: ItemState[];
  let soloStates: ItemState[];
  let pair: string;

  beforeAll(async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const solo = (await createBatch(client, { name: 'one runner', items: Array.from({ length: N }, (_, i) => batchItem(i)) })).batch.id;
    pair = (await createBatch(client, { name: 'two runners', items: Array.from({ length: N }, (_, i) => batchItem(N + i)) })).batch.id;
    one = await runRunner(['--once', '--concurrency', '1', '--batch', solo, '--runner-id', 'solo'], serviceEnv());
    const t = performance.now();
    two = await Promise.all(['pair-a', 'pair-b'].map((id) => runRunner(['--once', '--concurrency', '1', '--batch', pair, '--runner-id', id], serviceEnv())));
    twoSeconds = (performance.now() - t) / 1000;
    states = await itemStates(pair);
    soloStates = await itemStates(solo);
  }, 240_000);

  it('both exit 0 and both did work; every item was done exactly once', async () => {
    for (const r of [one, ...two]) expect(r.code, r.stderr).toBe(0);
    const [a, b] = two.map((r) => itemLines(r).length);
    console.log(`runner: ${N} small molecules: one runner ${one.seconds.toFixed(1)} s, two runners ${twoSeconds.toFixed(1)} s (${a} + ${b} items)`);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a + b).toBe(N);
    for (const s of [...states, ...soloStates]) {
      expect(s.status).toBe('completed');
      expect(s.attempt_history).toHaveLength(1);
      expect(s.attempt_history[0].outcome).toBe('completed');
    }
    expect(new Set(states.map((s) => s.calculation_id)).size).toBe(N);
    expect(new Set(states.map((s) => s.attempt_history[0].runner))).toEqual(new Set(['pair-a', 'pair-b']));
    const { counters, counted } = await countersAndCounts(pair);
    expect(counters).toEqual(counted);
  });
});
