// DELETE /batches/:id: a finished or cancelled batch goes with its items, on the record; the
// calculations its items produced stay; a live batch is a 409 and another user's a 404.
import { describe, expect, it } from 'vitest';
import { cancel, claim, complete, createBatch, deleteBatch } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('DELETE /batches/:id', () => {
  it('deletes a cancelled batch with its items and keeps the calculations', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'to delete', items: batchItems(3) });

    const live = await call(`batches/${batch.id}`, { method: 'DELETE', token: user.token });
    expect(live.status).toBe(409);

    const { items: claimed } = await claim(client, { runner_id: 'r1', limit: 1, lease_seconds: 60, batch_id: batch.id });
    const done = await complete(client, { item_id: claimed[0].item_id, runner_id: 'r1', result: resultFor(claimed[0]) });
    await cancel(client, batch.id);

    const other = await newUser();
    expect((await call(`batches/${batch.id}`, { method: 'DELETE', token: other.token })).status).toBe(404);

    expect(await deleteBatch(client, batch.id)).toEqual({ deleted: { batches: 1, items: 3 } });
    const counts = await userCounts(user.id);
    expect(counts).toMatchObject({ batch_jobs: 0, batch_items: 0, calculations: 1 });
    const [calcRow] = await adminSql()`select batch_item_id from public.calculations where id = ${done.calculation_id}`;
    expect(calcRow.batch_item_id).toBeNull();
    const [event] = await adminSql()`select payload from public.event_logs where user_id = ${user.id} and event_type = 'batch_deleted'`;
    expect(event.payload).toMatchObject({ name: 'to delete', status: 'cancelled' });
    expect((await call(`batches/${batch.id}`, { method: 'DELETE', token: user.token })).status).toBe(404);
  });
});
