// Creating batches and reading them back: canonicalised, de-duplicated molecules, item counts,
// xtb_args, existing molecules by id, listing with progress, and item pages by cursor and status.
import { describe, expect, it } from 'vitest';
import { addItems, cancel, claim, complete, createBatch, getAllItems, getBatch, listBatches } from '../../shared/client-batches.ts';
import { call } from '../support/http.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { batchItem, batchItems, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('POST /batches', () => {
  it('creates the batch, its molecules (canonicalised, one row per molecule) and its items in order', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const res = await createBatch(client, {
      name: 'alcohols',
      method: 'GFN1-xTB',
      task: 'opt',
      solvent: 'Water',
      max_attempts: 4,
      priority: 7,
      tags: ['demo'],
      metadata: { project: 'x' },
      xtb_args: ['--iterations', 300, '--acc', '0.1'],
      items: [
        { smiles: 'OCC', name: 'ethanol' },
        { smiles: 'C(O)C' },
        { smiles: 'CCO', charge: 0, multiplicity: 1 },
        { smiles: 'C1=CC=CC=C1' },
        { smiles: 'c1ccccc1', name: 'benzene' },
        { smiles: '[CH3]', multiplicity: 2 },
        { smiles: 'CC(=O)[O-]', charge: -1 },
      ],
    });
    expect(res.counts).toEqual({ items: 7, molecules: 4, molecules_created: 4 });
    expect(res.batch).toMatchObject({
      name: 'alcohols', status: 'pending', method: 'GFN1-xTB', task: 'opt', solvent: 'water', max_attempts: 4,
      priority: 7, tags: ['demo'], metadata: { project: 'x' }, xtb_args: ['--iterations', '300', '--acc', '0.1'],
      total_items: 7, pending_items: 7, claimed_items: 0, completed_items: 0, failed_items: 0, cancelled_items: 0,
      user_id: user.id,
    });
    expect(res.batch.progress.percent_done).toBe(0);

    const [{ n }] = await adminSql()`select count(*)::int as n from public.molecules where user_id = ${user.id}`;
    expect(n).toBe(4);
    const page = await getBatch(client, res.batch.id);
    expect(page.items.map((i) => i.smiles)).toEqual(['CCO', 'CCO', 'CCO', 'c1ccccc1', 'c1ccccc1', '[CH3]', 'CC(=O)[O-]']);
    // An item without a name shows its molecule's (the first name given for it).
    expect(page.items.map((i) => i.name)).toEqual(['ethanol', 'ethanol', 'ethanol', null, 'benzene', null, null]);
    expect(page.items[5]).toMatchObject({ multiplicity: 2, charge: 0, status: 'pending', attempts: 0, attempt_history: [] });
    expect(page.items[6].charge).toBe(-1);

    // The runner gets the batch's options with each item.
    const claimed = await claim(client, { runner_id: 'r1', batch_id: res.batch.id, limit: 1 });
    expect(claimed.items[0]).toMatchObject({
      smiles: 'CCO', method: 'GFN1-xTB', task: 'opt', solvent: 'water', xtb_args: ['--iterations', '300', '--acc', '0.1'],
      attempt: 1, max_attempts: 4, user_id: user.id, geometry: null,
    });
  });

  it('reuses the user\'s molecules, and accepts items that name one by id', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const first = await createBatch(client, { name: 'first', items: batchItems(3) });
    expect(first.counts).toEqual({ items: 3, molecules: 3, molecules_created: 3 });
    const [water] = await adminSql()`select id from public.molecules where user_id = ${user.id} and canonical_smiles = 'O'`;
    const second = await createBatch(client, {
      name: 'second',
      items: [batchItem(10), { molecule_id: water.id, charge: 1, multiplicity: 2 }, { molecule_id: water.id, name: 'by id' }],
    });
    expect(second.counts).toEqual({ items: 3, molecules: 2, molecules_created: 0 });
    const page = await getBatch(client, second.batch.id);
    expect(page.items.map((i) => [i.smiles, i.molecule_id === water.id, i.charge, i.multiplicity, i.name])).toEqual([
      ['C', false, 0, 1, 'item 10'],
      ['O', true, 1, 2, 'item 0'],
      ['O', true, 0, 1, 'by id'],
    ]);
  });

  it('takes 10,000 items in one request', async () => {
    const user = await newUser();
    const res = await createBatch(clientFor(user.token), {
      name: 'big',
      items: Array.from({ length: 10_000 }, (_, i) => ({ smiles: ['O', 'C', 'CCO', 'N'][i % 4], charge: 0 })),
    });
    expect(res.counts).toEqual({ items: 10_000, molecules: 4, molecules_created: 4 });
    expect(res.batch.total_items).toBe(10_000);
    expect(res.batch.pending_items).toBe(10_000);
  });
});

describe('POST /batches/:id/items', () => {
  it('adds items to a batch (a finished one runs again); a cancelled batch takes none', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'growing', priority: 3, items: batchItems(1) });
    const [first] = (await claim(client, { runner_id: 'r', batch_id: batch.id })).items;
    await complete(client, { item_id: first.item_id, runner_id: 'r', result: resultFor(first) });
    expect((await getBatch(client, batch.id)).batch.status).toBe('completed');

    const more = await addItems(client, batch.id, { items: batchItems(2, 1) });
    expect(more.counts).toEqual({ items: 2, molecules: 2, molecules_created: 2 });
    expect(more.batch).toMatchObject({ status: 'running', total_items: 3, pending_items: 2, completed_items: 1 });
    const next = await claim(client, { runner_id: 'r', batch_id: batch.id, limit: 5 });
    expect(next.items.map((i) => i.name)).toEqual(['item 1', 'item 2']);

    await cancel(client, batch.id);
    const refused = await call(`batches/${batch.id}/items`, { token: user.token, body: { items: batchItems(1, 3) } });
    expect(refused.status).toBe(409);
    expect((await getBatch(client, batch.id)).batch.total_items).toBe(3);
  });
});

describe('GET /batches and GET /batches/:id', () => {
  it('lists the caller\'s batches newest first with progress, paged by cursor', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const made = [];
    for (let k = 0; k < 5; k++) made.push((await createBatch(client, { name: `b${k}`, items: batchItems(2, k * 2) })).batch.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listBatches(client, { limit: 2, cursor });
      expect(page.data.length).toBeLessThanOrEqual(2);
      for (const b of page.data) {
        expect(b.progress).toMatchObject({ percent_done: 0 });
        seen.push(b.id);
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
    const pending = await listBatches(client, { status: 'pending' });
    expect(pending.data).toHaveLength(5);
    expect((await listBatches(client, { status: 'running' })).data).toHaveLength(0);
  });

  it('pages a batch\'s items in creation order and filters them by status', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const { batch } = await createBatch(client, { name: 'paged', items: batchItems(25) });
    await claim(client, { runner_id: 'r', batch_id: batch.id, limit: 4 });
    const all = await getAllItems(client, batch.id, { limit: 7 });
    expect(all.map((i) => i.name)).toEqual(Array.from({ length: 25 }, (_, i) => `item ${i}`));
    const claimed = await getBatch(client, batch.id, { status: 'claimed' });
    expect(claimed.items.map((i) => i.name)).toEqual(['item 0', 'item 1', 'item 2', 'item 3']);
    expect(claimed.items[0]).toMatchObject({ status: 'claimed', claimed_by: 'r', attempts: 1 });
    expect(claimed.items[0].attempt_history).toEqual([
      expect.objectContaining({ attempt: 1, runner: 'r', outcome: 'claimed', ended_at: null }),
    ]);
    expect(claimed.batch).toMatchObject({ status: 'running', claimed_items: 4, pending_items: 21 });
    expect(claimed.next_cursor).toBeNull();
  });
});
