// Retries per error class, and the batch actions: each retryable class retries up to max_attempts
// and then fails; invalid_input fails at once; attempt_history keeps every attempt. Cancel stops a
// batch (claimed items may still finish, nothing is reissued); retry sends failed items back.
import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, type ErrorClass } from '../../shared/contract/batches.ts';
import { cancel, claim, complete, createBatch, fail, getBatch, heartbeat, retry } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { call } from '../support/http.ts';
import { batchEvents, countersAndCounts, itemStates } from './batch-helpers.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('retries', () => {
  it('each retryable class is retried up to max_attempts, then fails; invalid_input fails at once', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'flaky', max_attempts: 3, items: batchItems(ERROR_CLASSES.length) });
    const page = await getBatch(client, batch.id);
    const classOf = new Map<string, ErrorClass>(page.items.map((it, k) => [it.id, ERROR_CLASSES[k]]));

    const answers: Record<string, string[]> = {};
    for (;;) {
      const { items: got } = await claim(client, { runner_id: 'flaky-runner', batch_id: batch.id, limit: 10 });
      if (got.length === 0) break;
      for (const it of got) {
        const errorClass = classOf.get(it.item_id)!;
        const r = await fail(client, { item_id: it.item_id, runner_id: 'flaky-runner', error_class: errorClass, message: `${errorClass} on attempt ${it.attempt}` });
        expect(r.attempts).toBe(it.attempt);
        (answers[errorClass] ??= []).push(r.status);
      }
    }
    expect(answers).toEqual({
      scf_not_converged: ['pending', 'pending', 'failed'],
      opt_not_converged: ['pending', 'pending', 'failed'],
      timeout: ['pending', 'pending', 'failed'],
      crash: ['pending', 'pending', 'failed'],
      invalid_input: ['failed'],
    });

    for (const s of await itemStates(batch.id)) {
      const errorClass = classOf.get(s.id)!;
      const n = errorClass === 'invalid_input' ? 1 : 3;
      expect(s).toMatchObject({ status: 'failed', attempts: n });
      expect(s.attempt_history).toHaveLength(n);
      s.attempt_history.forEach((a, k) => {
        expect(a).toMatchObject({ attempt: k + 1, runner: 'flaky-runner', outcome: errorClass, error: `${errorClass} on attempt ${k + 1}` });
        expect(a.ended_at).not.toBeNull();
      });
    }
    const done = await getBatch(client, batch.id);
    expect(done.batch).toMatchObject({ status: 'failed', failed_items: 5, pending_items: 0 });
    expect(done.items[0].last_error).toBe('scf_not_converged: scf_not_converged on attempt 3');
    expect(await batchEvents(batch.id)).toEqual(['batch_created', 'batch_started', 'batch_failed']);
  });

  it('the same failure sent twice is recorded once', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'twice', items: batchItems(1) });
    const [it] = (await claim(client, { runner_id: 'r', batch_id: batch.id })).items;
    const once = await fail(client, { item_id: it.item_id, runner_id: 'r', error_class: 'timeout', message: 'slow' });
    const twice = await fail(client, { item_id: it.item_id, runner_id: 'r', error_class: 'timeout', message: 'slow' });
    expect(once).toMatchObject({ status: 'pending', already_recorded: false });
    expect(twice).toMatchObject({ status: 'pending', already_recorded: true, attempts: 1 });
    const [s] = await itemStates(batch.id);
    expect(s.attempt_history).toHaveLength(1);
  });
});

describe('cancel', () => {
  it('cancels pending items; claimed ones may finish but are never reissued', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'to cancel', items: batchItems(6) });
    const { items: held } = await claim(client, { runner_id: 'busy', batch_id: batch.id, limit: 2 });

    const res = await cancel(client, batch.id);
    expect(res).toMatchObject({ cancelled_items: 6, already_cancelled: false });
    expect(res.batch).toMatchObject({ status: 'cancelled', cancelled_items: 6, pending_items: 0, claimed_items: 0 });
    expect(res.batch.completed_at).not.toBeNull();

    // Nothing is handed out any more, not even when the runner's leases run out.
    expect((await claim(client, { runner_id: 'other', batch_id: batch.id })).items).toEqual([]);
    const hb = await heartbeat(client, { runner_id: 'busy', item_ids: held.map((h) => h.item_id) });
    expect(hb.lost.map((l) => l.reason)).toEqual(['batch_cancelled', 'batch_cancelled']);

    // The runner finishes one item anyway: its result is kept. The other it reports as failed.
    const finished = await complete(client, { item_id: held[0].item_id, runner_id: 'busy', result: resultFor(held[0]) });
    expect(finished.status).toBe('completed');
    const gaveUp = await fail(client, { item_id: held[1].item_id, runner_id: 'busy', error_class: 'crash', message: 'killed' });
    expect(gaveUp.status).toBe('cancelled');
    // Another runner cannot finish a cancelled item it never held.
    const stranger = await call('batches/complete', { token: user.token, body: { item_id: held[1].item_id, runner_id: 'other', result: resultFor(held[1]) } });
    expect(stranger.status).toBe(409);

    const states = await itemStates(batch.id);
    const byId = new Map(states.map((s) => [s.id, s]));
    expect(byId.get(held[0].item_id)!.attempt_history.map((a) => a.outcome)).toEqual(['completed']);
    expect(byId.get(held[1].item_id)!.attempt_history.map((a) => a.outcome)).toEqual(['crash']);
    expect(states.filter((s) => s.status === 'cancelled')).toHaveLength(5);
    const after = await getBatch(client, batch.id);
    expect(after.batch).toMatchObject({ status: 'cancelled', completed_items: 1, cancelled_items: 5 });

    // Cancelling again is harmless; retrying a cancelled batch is refused.
    expect(await cancel(client, batch.id)).toMatchObject({ cancelled_items: 0, already_cancelled: true });
    const r = await call(`batches/${batch.id}/retry`, { token: user.token, method: 'POST' });
    expect(r.status).toBe(409);
    expect(await batchEvents(batch.id)).toEqual(['batch_created', 'batch_started', 'batch_cancelled']);
    const { counters, counted } = await countersAndCounts(batch.id);
    expect(counters).toEqual(counted);
  });

  it('a finished batch cannot be cancelled', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'done', items: batchItems(1) });
    const [it] = (await claim(client, { runner_id: 'r', batch_id: batch.id })).items;
    await complete(client, { item_id: it.item_id, runner_id: 'r', result: resultFor(it) });
    const r = await call(`batches/${batch.id}/cancel`, { token: user.token, method: 'POST' });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/completed/);
    expect((await getBatch(client, batch.id)).batch.status).toBe('completed');
  });
});

describe('retry', () => {
  it('sends failed items back to pending with fresh attempts and keeps their history', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'second chance', max_attempts: 1, items: batchItems(3) });
    for (const it of (await claim(client, { runner_id: 'r1', batch_id: batch.id, limit: 3 })).items) {
      await fail(client, { item_id: it.item_id, runner_id: 'r1', error_class: 'scf_not_converged', message: 'no SCF' });
    }
    expect((await getBatch(client, batch.id)).batch.status).toBe('failed');

    const res = await retry(client, batch.id);
    expect(res.retried_items).toBe(3);
    expect(res.batch).toMatchObject({ status: 'running', pending_items: 3, failed_items: 0, completed_at: null });
    const states = await itemStates(batch.id);
    expect(states.every((s) => s.status === 'pending' && s.attempts === 0 && s.claimed_by === null)).toBe(true);

    const again = await claim(client, { runner_id: 'r2', batch_id: batch.id, limit: 3 });
    expect(again.items.map((i) => i.attempt)).toEqual([1, 1, 1]);
    for (const it of again.items) await complete(client, { item_id: it.item_id, runner_id: 'r2', result: resultFor(it) });
    for (const s of await itemStates(batch.id)) {
      expect(s.status).toBe('completed');
      expect(s.attempt_history.map((a) => [a.runner, a.outcome])).toEqual([['r1', 'scf_not_converged'], ['r2', 'completed']]);
    }
    expect((await getBatch(client, batch.id)).batch.status).toBe('completed');
    expect(await batchEvents(batch.id)).toEqual(['batch_created', 'batch_started', 'batch_failed', 'batch_completed']);
    // Nothing failed any more: retry does nothing.
    expect((await retry(client, batch.id)).retried_items).toBe(0);
  });
});
