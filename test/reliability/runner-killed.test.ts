// A runner SIGKILLed while it holds 10 leases: no signal handler runs, nothing is reported, no lease
// is given back. Once the leases expire, a second runner (real xtb) claims the 10 items and
// completes each exactly once, and each item's attempt_history shows the first attempt as
// `lease_expired` under the killed runner's name.
// The killed runner runs a stand-in for xtb that never finishes, so that the kill finds all 10
// items in hand; what runs after it is the real program.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BATCH_LIMITS } from '../../shared/contract/batches.ts';
import { createBatch } from '../../shared/client-batches.ts';
import { countersAndCounts, itemStates } from '../batches/batch-helpers.ts';
import {
  describeWithXtb, itemLines, runRunner, spawnRunner, waitFor, writeSleepingXtb,
} from '../runner/helpers.ts';
import { finished } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { batchItem } from '../support/payloads.ts';
import { newUser, userEnv } from '../support/users.ts';

const HELD = 10;
const LEASE_S = BATCH_LIMITS.leaseSeconds.min;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'qf-runner-killed-'));
});
afterAll(async () => {
  // The stand-in's sleeps outlive the runner that started them: end them.
  for (const f of existsSync(path.join(dir, 'pids')) ? await readdir(path.join(dir, 'pids')) : []) {
    for (const pid of (await readFile(path.join(dir, 'pids', f), 'utf8')).trim().split(' ').map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describeWithXtb('a runner killed while it holds leases', () => {
  it(`SIGKILL with ${HELD} leases held: after expiry another runner completes each item exactly once`, async () => {
    const user = await newUser();
    const batch = (await createBatch(clientFor(user.token), {
      name: 'runner killed', items: Array.from({ length: HELD }, (_, i) => batchItem(i)),
    })).batch.id;

    // Answers --version like xtb, then sleeps (with a child of its own) until it is killed.
    const fake = path.join(dir, 'xtb');
    await mkdir(path.join(dir, 'pids'));
    await writeSleepingXtb(fake, `${dir}/pids/$$`, 600);

    const doomed = spawnRunner(['--concurrency', String(HELD), '--lease', String(LEASE_S), '--xtb', fake, '--runner-id', 'doomed'], userEnv(user.token));
    const doomedRun = finished(doomed);
    await waitFor(async () => (await readdir(path.join(dir, 'pids'))).length === HELD, `${HELD} xtb processes`, 60_000);
    const held = await itemStates(batch);
    expect(held.map((s) => [s.status, s.claimed_by])).toEqual(Array(HELD).fill(['claimed', 'doomed']));
    doomed.kill('SIGKILL');
    expect((await doomedRun).signal).toBe('SIGKILL');

    // Until the leases run out, nobody else may take the items.
    const early = await runRunner(['--once', '--runner-id', 'too-early'], userEnv(user.token));
    expect(early.code, early.stderr).toBe(0);
    expect(itemLines(early)).toEqual([]);

    await waitFor(async () => {
      const [{ n }] = await adminSql()`
        select count(*)::int as n from public.batch_items where batch_job_id = ${batch} and lease_expires_at < now()`;
      return n === HELD;
    }, 'the leases to expire', (LEASE_S + 30) * 1000);

    const finisher = await runRunner(['--once', '--runner-id', 'finisher'], userEnv(user.token));
    expect(finisher.code, finisher.stderr).toBe(0);
    expect(itemLines(finisher)).toHaveLength(HELD);

    const states = await itemStates(batch);
    for (const s of states) {
      expect(s.status).toBe('completed');
      expect(s.attempts).toBe(2);
      expect(s.attempt_history.map((h) => [h.runner, h.outcome])).toEqual([['doomed', 'lease_expired'], ['finisher', 'completed']]);
    }
    // Exactly once: one calculation per item, each with one creation event, and the batch's counters agree.
    const ids = new Set(states.map((s) => s.calculation_id));
    expect(ids.size).toBe(HELD);
    const [stored] = await adminSql()`
      select (select count(*) from public.calculations where user_id = ${user.id})::int as calculations,
             (select count(*) from public.event_logs where user_id = ${user.id}
                and event_type = 'calculation_completed')::int as events`;
    expect(stored).toEqual({ calculations: HELD, events: HELD });
    const { counters, counted } = await countersAndCounts(batch);
    expect(counters).toEqual(counted);
    expect(counted.completed_items).toBe(HELD);
  }, 180_000);
});
