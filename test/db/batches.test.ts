// Batches: counters and status on batch_jobs follow batch_items by trigger, stay right when two
// connections change items at once, and log batch_started / _completed / _failed / _cancelled.
import { describe, expect, it } from 'vitest';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { newUser } from '../support/users.ts';
import { fakeInchikey, errorOf } from '../support/sql-helpers.ts';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A batch of `n` items (one molecule each) for `userId`; returns the batch id and item ids. */
async function newBatch(userId: string, n: number, maxAttempts = 3): Promise<{ batchId: string; itemIds: string[] }> {
  return asRole(API_ROLE, userId, async (tx) => {
    const [b] = await tx`insert into public.batch_jobs (name, max_attempts) values ('b', ${maxAttempts}) returning id`;
    const molecules = await tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      select 'C', k, 'CH4', 'C', 5 from unnest(${Array.from({ length: n }, fakeInchikey)}::text[]) as k
      returning id`;
    const items = await tx`
      insert into public.batch_items (batch_job_id, molecule_id)
      select ${b.id}, m from unnest(${molecules.map((m) => m.id)}::uuid[]) as m
      returning id`;
    return { batchId: b.id, itemIds: items.map((i) => i.id) };
  });
}

async function batchRow(batchId: string) {
  const [row] = await adminSql()`
    select status, total_items, pending_items, claimed_items, completed_items, failed_items, cancelled_items,
           started_at is not null as started, completed_at is not null as finished
      from public.batch_jobs where id = ${batchId}`;
  return row;
}

/** The counters as they should be: counted from batch_items. */
async function recount(batchId: string) {
  const [row] = await adminSql()`
    select count(*)::int as total_items,
           (count(*) filter (where status = 'pending'))::int as pending_items,
           (count(*) filter (where status = 'claimed'))::int as claimed_items,
           (count(*) filter (where status = 'completed'))::int as completed_items,
           (count(*) filter (where status = 'failed'))::int as failed_items,
           (count(*) filter (where status = 'cancelled'))::int as cancelled_items
      from public.batch_items where batch_job_id = ${batchId}`;
  return row;
}

async function batchEvents(batchId: string): Promise<string[]> {
  const rows = await adminSql()`select event_type from public.event_logs where entity_id = ${batchId} order by id`;
  return rows.map((r) => r.event_type);
}

const claim = (ids: string[]) => (tx: any) => tx`
  update public.batch_items
     set status = 'claimed', claimed_by = 'runner:test', attempts = attempts + 1, total_attempts = total_attempts + 1,
         lease_expires_at = now() + interval '5 minutes'
   where id = any(${ids}::uuid[])`;
const finish = (ids: string[], status: 'completed' | 'failed') => (tx: any) => tx`
  update public.batch_items set status = ${status} where id = any(${ids}::uuid[])`;

describe('batch counters and status', () => {
  it('follow the items: pending, running at the first claim, then completed', async () => {
    const user = await newUser();
    const { batchId, itemIds } = await newBatch(user.id, 3);
    expect(await batchRow(batchId)).toMatchObject({ status: 'pending', total_items: 3, pending_items: 3, started: false });

    await asRole(API_ROLE, user.id, claim(itemIds.slice(0, 1)));
    expect(await batchRow(batchId)).toMatchObject({ status: 'running', pending_items: 2, claimed_items: 1, started: true, finished: false });

    await asRole(API_ROLE, user.id, finish(itemIds.slice(0, 1), 'completed'));
    await asRole(API_ROLE, user.id, claim(itemIds.slice(1)));
    await asRole(API_ROLE, user.id, finish(itemIds.slice(1), 'completed'));
    expect(await batchRow(batchId)).toMatchObject({ status: 'completed', completed_items: 3, pending_items: 0, claimed_items: 0, finished: true });
    expect(await batchEvents(batchId)).toEqual(['batch_created', 'batch_started', 'batch_completed']);

    // Started over 10 minutes ago: the three items of the last 10 minutes over 10 minutes.
    const [progress] = await adminSql().begin(async (tx) => {
      await tx`update public.batch_jobs set started_at = now() - interval '1 hour' where id = ${batchId}`;
      return tx`
        select percent_done::float8 as percent_done, items_per_minute::float8 as items_per_minute, eta_seconds::float8 as eta_seconds
          from public.batch_progress where batch_job_id = ${batchId}`;
    });
    expect(progress).toEqual({ percent_done: 100, items_per_minute: 0.3, eta_seconds: 0 });
  });

  it('fail the batch when an item fails for good; a retry reopens it without a second batch_started', async () => {
    const user = await newUser();
    const { batchId, itemIds } = await newBatch(user.id, 2);
    await asRole(API_ROLE, user.id, claim(itemIds));
    await asRole(API_ROLE, user.id, finish(itemIds.slice(0, 1), 'completed'));
    await asRole(API_ROLE, user.id, finish(itemIds.slice(1), 'failed'));
    expect(await batchRow(batchId)).toMatchObject({ status: 'failed', completed_items: 1, failed_items: 1, finished: true });

    await asRole(API_ROLE, user.id, (tx) => tx`update public.batch_items set status = 'pending' where id = ${itemIds[1]}`);
    expect(await batchRow(batchId)).toMatchObject({ status: 'running', pending_items: 1, failed_items: 0, finished: false });
    const [{ completed_at }] = await adminSql()`select completed_at from public.batch_items where id = ${itemIds[1]}`;
    expect(completed_at).toBeNull();

    await asRole(API_ROLE, user.id, claim(itemIds.slice(1)));
    await asRole(API_ROLE, user.id, finish(itemIds.slice(1), 'completed'));
    expect(await batchRow(batchId)).toMatchObject({ status: 'completed', completed_items: 2 });
    expect(await batchEvents(batchId)).toEqual(['batch_created', 'batch_started', 'batch_failed', 'batch_completed']);
  });

  it('cancelling a batch cancels its remaining items; nothing else may set its status or counters', async () => {
    const user = await newUser();
    const { batchId, itemIds } = await newBatch(user.id, 4);
    await asRole(API_ROLE, user.id, claim(itemIds.slice(0, 2)));
    await asRole(API_ROLE, user.id, finish(itemIds.slice(0, 1), 'completed'));

    const refused = await errorOf(asRole(API_ROLE, user.id, (tx) =>
      tx`update public.batch_jobs set status = 'completed' where id = ${batchId}`));
    expect(refused.constraint_name).toBe('batch_jobs_status_transition');
    const counters = await errorOf(asRole(API_ROLE, user.id, (tx) =>
      tx`update public.batch_jobs set pending_items = 0 where id = ${batchId}`));
    expect(counters.code).toBe('42501');

    await asRole(API_ROLE, user.id, (tx) => tx`update public.batch_jobs set status = 'cancelled' where id = ${batchId}`);
    expect(await batchRow(batchId)).toMatchObject({
      status: 'cancelled', total_items: 4, pending_items: 0, claimed_items: 0, completed_items: 1, cancelled_items: 3, finished: true,
    });
    expect(await batchRow(batchId)).toMatchObject(await recount(batchId));

    const uncancel = await errorOf(asRole(API_ROLE, user.id, (tx) =>
      tx`update public.batch_jobs set status = 'running' where id = ${batchId}`));
    expect(uncancel.constraint_name).toBe('batch_jobs_status_transition');

    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.batch_jobs where id = ${batchId}`);
    expect(await batchEvents(batchId)).toEqual(['batch_created', 'batch_started', 'batch_cancelled', 'batch_deleted']);
    const [{ n }] = await adminSql()`select count(*)::int as n from public.batch_items where batch_job_id = ${batchId}`;
    expect(n).toBe(0);
  });

  it('stay right when a second connection changes items while the first holds the batch row', async () => {
    const user = await newUser();
    const { batchId, itemIds } = await newBatch(user.id, 10);
    const firstHalf = itemIds.slice(0, 5);
    const secondHalf = itemIds.slice(5);

    const firstUpdated = deferred();
    const releaseFirst = deferred();
    const secondPid = deferred<number>();

    const first = asRole(API_ROLE, user.id, async (tx) => {
      await claim(firstHalf)(tx);
      firstUpdated.resolve();
      await releaseFirst.promise; // keep the batch row locked until the second one waits for it
    });
    await firstUpdated.promise;
    const second = asRole(API_ROLE, user.id, async (tx) => {
      const [{ pid }] = await tx`select pg_backend_pid() as pid`;
      secondPid.resolve(pid);
      await claim(secondHalf)(tx);
      await finish(secondHalf.slice(0, 2), 'completed')(tx);
    });
    const pid = await secondPid.promise;
    await waitUntil(async () => {
      const [row] = await adminSql()`select wait_event_type from pg_stat_activity where pid = ${pid}`;
      return row?.wait_event_type === 'Lock';
    });
    releaseFirst.resolve();
    await Promise.all([first, second]);

    expect(await batchRow(batchId)).toMatchObject({ status: 'running', total_items: 10, pending_items: 0, claimed_items: 8, completed_items: 2 });
    expect(await batchRow(batchId)).toMatchObject(await recount(batchId));
    expect(await batchEvents(batchId)).toEqual(['batch_created', 'batch_started']);
  });

  it('stay right when two runners claim and finish items concurrently', async () => {
    const user = await newUser();
    const { batchId } = await newBatch(user.id, 60);

    // Each runner: claim one item (skip locked, as a runner does), then finish it in another transaction.
    const runner = async (name: string) => {
      let done = 0;
      for (;;) {
        const [item] = await asRole(API_ROLE, user.id, (tx) => tx`
          update public.batch_items set status = 'claimed', claimed_by = ${name}, attempts = attempts + 1, total_attempts = total_attempts + 1,
                 lease_expires_at = now() + interval '1 minute'
           where id = (select id from public.batch_items
                        where batch_job_id = ${batchId} and status = 'pending'
                        order by id limit 1 for update skip locked)
          returning id`);
        if (!item) return done;
        // Every seventh item fails for good; the rest complete.
        const outcome = parseInt(item.id.slice(0, 8), 16) % 7 === 0 ? 'failed' : 'completed';
        await asRole(API_ROLE, user.id, finish([item.id], outcome));
        done++;
      }
    };
    const [a, b] = await Promise.all([runner('runner:a'), runner('runner:b')]);
    expect(a + b).toBe(60);

    const counted = await recount(batchId);
    const row = await batchRow(batchId);
    expect(row).toMatchObject(counted);
    expect(row.status).toBe(counted.failed_items > 0 ? 'failed' : 'completed');
    expect(await batchEvents(batchId)).toEqual(['batch_created', 'batch_started', counted.failed_items > 0 ? 'batch_failed' : 'batch_completed']);
  });
});
