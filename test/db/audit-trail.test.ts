// The audit trail, driven over HTTP as users and runners drive it: batch creation and item changes
// write events, every event names its actor (the user, or the service-role key and the user it acted
// for, and which key), a failure the functions could not answer is kept as an `error` event, and
// deleting molecules or calculations leaves finished batch items, counters and status as they were.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { ErrorEventBudget, isKeptFailure } from '../../supabase/functions/_shared/error-events.ts';
import { batchItem, resultFor } from '../support/payloads.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

const fingerprint = (token: string) => `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;

interface Event { event_type: string; entity_id: string | null; payload: Record<string, any>; actor: Record<string, unknown> }

async function eventsOf(userId: string, where: { type?: string; entity?: string } = {}): Promise<Event[]> {
  return adminSql()<Event[]>`
    select event_type, entity_id, payload, actor from public.event_logs
     where user_id = ${userId}
       ${where.type ? adminSql()`and event_type = ${where.type}` : adminSql()``}
       ${where.entity ? adminSql()`and entity_id = ${where.entity}` : adminSql()``}
     order by id`;
}

/** The batch's counters and status beside what count(*) of its items says. */
async function countersAndCounts(batchId: string) {
  const [row] = await adminSql()`
    select b.status, b.total_items, b.pending_items, b.claimed_items, b.completed_items, b.failed_items, b.cancelled_items,
           (select jsonb_build_object(
                     'total', count(*), 'pending', count(*) filter (where i.status = 'pending'),
                     'claimed', count(*) filter (where i.status = 'claimed'),
                     'completed', count(*) filter (where i.status = 'completed'),
                     'failed', count(*) filter (where i.status = 'failed'),
                     'cancelled', count(*) filter (where i.status = 'cancelled'))
              from public.batch_items i where i.batch_job_id = b.id) as counted
      from public.batch_jobs b where b.id = ${batchId}`;
  const kept = {
    total: row.total_items, pending: row.pending_items, claimed: row.claimed_items,
    completed: row.completed_items, failed: row.failed_items, cancelled: row.cancelled_items,
  };
  return { status: row.status as string, kept, counted: row.counted as typeof kept };
}

describe('who acted', () => {
  it('batch creation writes batch_created and one batch_item_created per item, naming the user and the key', async () => {
    const user = await newUser();
    const res = await call('batches', { token: user.token, body: { name: 'audited', items: [batchItem(0), batchItem(1)] } });
    expect(res.status).toBe(201);
    const batchId = res.body.batch.id as string;
    const actor = { role: 'authenticated', sub: user.id, key: fingerprint(user.token) };

    const [created] = await eventsOf(user.id, { type: 'batch_created' });
    expect(created).toMatchObject({ entity_id: batchId, payload: { name: 'audited', method: 'GFN2-xTB', task: 'sp' }, actor });
    const items = await eventsOf(user.id, { type: 'batch_item_created' });
    expect(items).toHaveLength(2);
    for (const e of items) expect(e).toMatchObject({ payload: { batch_job_id: batchId, status: 'pending' }, actor });
    // Every event of the request says the same, the molecules created with the batch included.
    expect((await eventsOf(user.id)).map((e) => e.actor)).toEqual(Array(5).fill(actor));

    // The user reads them back with the actor.
    const listed = await call('query/events?event_type=batch_created', { token: user.token });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([expect.objectContaining({ entity_id: batchId, actor })]);
  });

  it('the service-role key acting for a user is recorded as such, with which key; across users, as itself', async () => {
    const user = await newUser();
    const { serviceRoleKey } = inject('stack');
    const key = fingerprint(serviceRoleKey);
    const res = await call('batches', { token: serviceRoleKey, body: { user_id: user.id, name: 'fleet', items: [batchItem(2)] } });
    expect(res.status).toBe(201);
    const batchId = res.body.batch.id as string;
    const [created] = await eventsOf(user.id, { type: 'batch_created' });
    expect(created.actor).toEqual({ role: 'service_role', acting_for: user.id, key });

    // A runner with the service-role key claims across users: the claim is the service role's own.
    const claimed = await call('batches/claim', {
      token: serviceRoleKey, body: { all_users: true, runner_id: 'audit-runner', batch_id: batchId, limit: 1 },
    });
    expect(claimed.status).toBe(200);
    const held = claimed.body.items[0] as ClaimedItem;
    const [claim] = await eventsOf(user.id, { type: 'batch_item_updated', entity: held.item_id });
    expect(claim).toMatchObject({ payload: { status: 'claimed', previous_status: 'pending', claimed_by: 'audit-runner' } });
    expect(claim.actor).toEqual({ role: 'service_role', key });

    // Completing it stores the result as the owner: the service role acting for them.
    const done = await call('batches/complete', {
      token: serviceRoleKey, body: { all_users: true, runner_id: 'audit-runner', item_id: held.item_id, result: resultFor(held) },
    });
    expect(done.status).toBe(200);
    const [, completed] = await eventsOf(user.id, { type: 'batch_item_updated', entity: held.item_id });
    expect(completed).toMatchObject({ payload: { status: 'completed', previous_status: 'claimed' } });
    expect(completed.actor).toEqual({ role: 'service_role', acting_for: user.id, key });
    const [calculation] = await eventsOf(user.id, { type: 'calculation_completed' });
    expect(calculation.actor).toEqual({ role: 'service_role', acting_for: user.id, key });
  });
});

describe('deleting molecules and calculations', () => {
  it('leaves finished items in their batch, so counters and status still agree with count(*)', async () => {
    const user = await newUser();
    // Water, methane and ethanol: one item each, so each molecule can be deleted on its own.
    const created = await call('batches', { token: user.token, body: { name: 'deletes', items: [batchItem(0), batchItem(1), batchItem(2)] } });
    expect(created.status).toBe(201);
    const batchId = created.body.batch.id as string;
    const claimed = await call('batches/claim', { token: user.token, body: { runner_id: 'r1', batch_id: batchId, limit: 3 } });
    const bySmiles = Object.fromEntries((claimed.body.items as ClaimedItem[]).map((i) => [i.smiles, i]));
    const [water, methane, ethanol] = [bySmiles.O, bySmiles.C, bySmiles.CCO];

    expect((await call('batches/fail', { token: user.token, body: { runner_id: 'r1', item_id: water.item_id, error_class: 'invalid_input', message: 'bad' } })).status).toBe(200);
    const done = await call('batches/complete', { token: user.token, body: { runner_id: 'r1', item_id: methane.item_id, result: resultFor(methane) } });
    expect(done.status).toBe(200);
    const calculationId = done.body.calculation_id as string;
    let state = await countersAndCounts(batchId);
    expect(state.status).toBe('running');
    expect(state.kept).toEqual({ total: 3, pending: 0, claimed: 1, completed: 1, failed: 1, cancelled: 0 });

    // The failed item's molecule goes: the item stays failed (it used to be deleted with it, and
    // the batch would then have finished `completed`).
    expect((await call(`ingest/molecules/${water.molecule_id}`, { method: 'DELETE', token: user.token })).status).toBe(200);
    // The completed item's result goes: the item stays completed, without a calculation.
    expect((await call(`ingest/calculations/${calculationId}`, { method: 'DELETE', token: user.token })).status).toBe(200);
    state = await countersAndCounts(batchId);
    expect(state.kept).toEqual(state.counted);
    expect(state.kept).toEqual({ total: 3, pending: 0, claimed: 1, completed: 1, failed: 1, cancelled: 0 });
    expect(state.status).toBe('running');

    // A live item's molecule goes only with force=true, which cancels the item: nothing is left to
    // run, and with one item failed the batch is failed.
    expect((await call(`ingest/molecules/${ethanol.molecule_id}`, { method: 'DELETE', token: user.token })).status).toBe(409);
    expect((await call(`ingest/molecules/${ethanol.molecule_id}?force=true`, { method: 'DELETE', token: user.token })).status).toBe(200);
    state = await countersAndCounts(batchId);
    expect(state.kept).toEqual(state.counted);
    expect(state.kept).toEqual({ total: 3, pending: 0, claimed: 0, completed: 1, failed: 1, cancelled: 1 });
    expect(state.status).toBe('failed');

    const items = await adminSql()`
      select id, status, molecule_id, calculation_id from public.batch_items where batch_job_id = ${batchId} order by seq`;
    expect(items).toEqual([
      { id: water.item_id, status: 'failed', molecule_id: null, calculation_id: null },
      { id: methane.item_id, status: 'completed', molecule_id: methane.molecule_id, calculation_id: null },
      { id: ethanol.item_id, status: 'cancelled', molecule_id: null, calculation_id: null },
    ]);
    // The API still lists all three.
    const page = await call(`batches/${batchId}`, { token: user.token });
    expect(page.status).toBe(200);
    expect(page.body.items.map((i: { id: string; molecule_id: string | null; smiles: string | null }) => [i.id, i.molecule_id, i.smiles]))
      .toEqual([[water.item_id, null, null], [methane.item_id, methane.molecule_id, 'C'], [ethanol.item_id, null, null]]);

    // A failed item whose molecule is gone cannot run again: retry leaves it, and the batch, as they are.
    const retried = await call(`batches/${batchId}/retry`, { token: user.token, body: {} });
    expect(retried.status).toBe(200);
    expect((await countersAndCounts(batchId)).status).toBe('failed');

    // Each unlinking is on the record, with what it pointed at and who did it.
    const actor = { role: 'authenticated', sub: user.id, key: fingerprint(user.token) };
    const unlinked = (await eventsOf(user.id, { type: 'batch_item_updated' }))
      .filter((e) => e.payload.previous_molecule_id || e.payload.previous_calculation_id);
    expect(unlinked).toEqual([
      expect.objectContaining({ entity_id: water.item_id, actor, payload: expect.objectContaining({ status: 'failed', previous_molecule_id: water.molecule_id }) }),
      expect.objectContaining({ entity_id: methane.item_id, actor, payload: expect.objectContaining({ status: 'completed', previous_calculation_id: calculationId }) }),
      expect.objectContaining({ entity_id: ethanol.item_id, actor, payload: expect.objectContaining({ status: 'cancelled', previous_molecule_id: ethanol.molecule_id }) }),
    ]);
  });
});

describe('error events', () => {
  it('a failure the functions could not answer (500) is kept for the user, without the database\'s message; a 4xx is not', async () => {
    const user = await newUser();
    const refused = await call('ingest', { token: user.token, body: { calcs: [] } });
    expect(refused.status).toBe(422);

    // A fault for this user only: their next molecule insert fails with an error the API cannot map.
    const sql = adminSql();
    const schema = `qf_audit_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await sql.unsafe(`
      create schema ${schema};
      create function ${schema}.fault() returns trigger language plpgsql as $$
        begin raise exception 'secret database detail' using errcode = 'P0001'; end $$;
      create trigger ${schema}_fault before insert on public.molecules
        for each row when (new.user_id = '${user.id}') execute function ${schema}.fault();`);
    let res: Awaited<ReturnType<typeof call>>;
    try {
      res = await call('ingest', { token: user.token, body: { calculations: [calc({ seed: 7 })] } });
    } finally {
      await sql.unsafe(`drop trigger if exists ${schema}_fault on public.molecules; drop schema ${schema} cascade;`);
    }
    expect(res.status).toBe(500);

    // The event is written after the response: wait for it.
    let errors: Event[] = [];
    for (let i = 0; i < 100 && errors.length === 0; i++) {
      errors = await eventsOf(user.id, { type: 'error' });
      if (errors.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      entity_id: null,
      payload: { function: 'ingest', method: 'POST', path: expect.stringMatching(/\/ingest$/), status: 500, code: 'internal_error', sqlstate: 'P0001' },
      actor: { role: 'authenticated', sub: user.id, key: fingerprint(user.token) },
    });
    expect(JSON.stringify(errors[0].payload)).not.toContain('secret database detail');
  });
});

describe('which failures are kept, and how many', () => {
  it('keeps 5xx answers other than 503 and 504, and none while the database is unreachable', () => {
    expect(isKeptFailure(new Error('bug'), 500)).toBe(true);
    expect(isKeptFailure(new Error('refused'), 422)).toBe(false);
    expect(isKeptFailure(new Error('forbidden'), 403)).toBe(false);
    expect(isKeptFailure(new Error('down'), 503)).toBe(false);
    expect(isKeptFailure(new Error('too slow'), 504)).toBe(false);
    expect(isKeptFailure(Object.assign(new Error('gone'), { code: 'CONNECTION_CLOSED' }), 500)).toBe(false);
  });

  it('writes at most the budget per user and minute; the next one written says how many were skipped', () => {
    let now = 0;
    const budget = new ErrorEventBudget(2, () => now);
    expect([budget.take('a'), budget.take('a'), budget.take('a'), budget.take('a')])
      .toEqual([{ skipped: 0 }, { skipped: 0 }, undefined, undefined]);
    // Another user has a budget of their own.
    expect(budget.take('b')).toEqual({ skipped: 0 });
    now = 60_000;
    expect(budget.take('a')).toEqual({ skipped: 2 });
    expect(budget.take('a')).toEqual({ skipped: 0 });
  });
});
