// Bad input gets a clear 4xx in the one error shape, naming the field, and changes nothing: limits
// out of range, unknown error classes, unknown or foreign item ids, invalid items at creation,
// xtb options off the whitelist, bodies that are not JSON, wrong methods and unknown routes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { claim, createBatch } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { userCounts } from '../support/counts.ts';
import { call } from '../support/http.ts';
import { itemStates } from './batch-helpers.ts';
import { batchItem, batchItems, resultFor } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

let user: TestUser;
let stranger: TestUser;
let batchId: string;
let held: ClaimedItem;
let foreignItem: string;

beforeAll(async () => {
  user = await newUser();
  stranger = await newUser();
  const { batch } = await createBatch(clientFor(user.token), { name: 'target', items: batchItems(3) });
  batchId = batch.id;
  [held] = (await claim(clientFor(user.token), { runner_id: 'r', batch_id: batchId, limit: 1 })).items;
  const other = await createBatch(clientFor(stranger.token), { name: 'other', items: batchItems(1) });
  [{ item_id: foreignItem }] = (await claim(clientFor(stranger.token), { runner_id: 's', batch_id: other.batch.id })).items;
});

/** Sends `path` as the user and expects `status`, an error in the one shape, and no change at all. */
async function refused(path: string, opts: Parameters<typeof call>[1], status: number, detailPath?: string) {
  const before = [await userCounts(user.id), await itemStates(batchId)];
  const res = await call(path, { token: user.token, ...opts });
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
  if (detailPath) expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(detailPath);
  expect([await userCounts(user.id), await itemStates(batchId)]).toEqual(before);
  return res.body.error;
}

const claimBody = (extra: Record<string, unknown>) => ({ body: { runner_id: 'r2', batch_id: batchId, ...extra } });

describe('claim and heartbeat limits', () => {
  it.each([
    [{ limit: 0 }, 'limit'], [{ limit: 101 }, 'limit'], [{ limit: 2.5 }, 'limit'],
    [{ lease_seconds: 29 }, 'lease_seconds'], [{ lease_seconds: 3601 }, 'lease_seconds'],
    [{ runner_id: '' }, 'runner_id'], [{ methods: ['GFN3-xTB'] }, 'methods[0]'], [{ batch_id: 'not-a-uuid' }, 'batch_id'],
    [{ surprise: true }, '(body)'],
  ])('claim %j → 422', async (extra, path) => {
    await refused('batches/claim', claimBody(extra), 422, path);
  });

  it('heartbeat with a lease out of range, no ids, or too many → 422', async () => {
    await refused('batches/heartbeat', { body: { runner_id: 'r', item_ids: [held.item_id], lease_seconds: 10 } }, 422, 'lease_seconds');
    await refused('batches/heartbeat', { body: { runner_id: 'r', item_ids: [] } }, 422, 'item_ids');
    await refused('batches/heartbeat', { body: { runner_id: 'r', item_ids: Array.from({ length: 1001 }, () => held.item_id) } }, 422, 'item_ids');
  });
});

describe('unknown or foreign ids', () => {
  const unknown = '00000000-0000-4000-8000-000000000000';

  it('heartbeat → 404 naming the ids, and no lease is extended, not even the held one', async () => {
    const error = await refused('batches/heartbeat', { body: { runner_id: 'r', item_ids: [held.item_id, unknown, foreignItem] } }, 404);
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(['item_ids[1]', 'item_ids[2]']);
  });

  it.each([['unknown', unknown], ['foreign', 'FOREIGN']])('complete, fail, cancel, retry of a %s id → 404', async (_, id) => {
    const target = id === 'FOREIGN' ? foreignItem : id;
    await refused('batches/complete', { body: { item_id: target, runner_id: 'r', result: resultFor(held) } }, 404);
    await refused('batches/fail', { body: { item_id: target, runner_id: 'r', error_class: 'crash', message: 'x' } }, 404);
    await refused(`batches/${unknown}/cancel`, { method: 'POST' }, 404);
    await refused(`batches/${unknown}/retry`, { method: 'POST' }, 404);
    await refused(`batches/${unknown}`, {}, 404);
    await refused('batches/claim', claimBody({ batch_id: unknown }), 404);
  });

  it('a path id that is not a UUID → 400', async () => {
    await refused('batches/not-a-batch', {}, 400, 'id');
    await refused('batches/not-a-batch/cancel', { method: 'POST' }, 400, 'id');
  });
});

describe('fail and complete', () => {
  it('an unknown error class → 422 naming error_class', async () => {
    await refused('batches/fail', { body: { item_id: held.item_id, runner_id: 'r', error_class: 'gremlins', message: 'x' } }, 422, 'error_class');
    await refused('batches/fail', { body: { item_id: held.item_id, runner_id: 'r', error_class: 'crash', message: '' } }, 422, 'message');
  });

  it('a result that is invalid or not this item\'s → 422 naming the field', async () => {
    const bad = { ...resultFor(held), results: { total_energy_eh: 'low' } };
    await refused('batches/complete', { body: { item_id: held.item_id, runner_id: 'r', result: bad } }, 422, 'result.results.total_energy_eh');
    await refused('batches/complete', { body: { item_id: held.item_id, runner_id: 'r', result: { ...resultFor(held), method: 'GFN-FF' } } }, 422, 'result.method');
    await refused('batches/complete', { body: { item_id: held.item_id, runner_id: 'r', result: { ...resultFor(held), charge: 1, multiplicity: 2 } } }, 422, 'result.charge');
    await refused('batches/complete', { body: { item_id: held.item_id, runner_id: 'r', result: { ...resultFor(held), status: 'failed', error_message: 'x' } } }, 422, 'result.status');
    const wrongMolecule = { ...resultFor({ ...held, smiles: held.smiles === 'O' ? 'C' : 'O', geometry: null }) };
    await refused('batches/complete', { body: { item_id: held.item_id, runner_id: 'r', result: wrongMolecule } }, 422, 'result.molecule.smiles');
  });

  it('complete-many with a repeated item id or too many items → 422', async () => {
    const entry = { item_id: held.item_id, result: resultFor(held) };
    await refused('batches/complete-many', { body: { runner_id: 'r', items: [entry, entry] } }, 422, 'items[1].item_id');
    await refused('batches/complete-many', { body: { runner_id: 'r', items: Array.from({ length: 101 }, () => entry) } }, 422, 'items');
  });
});

describe('creating a batch', () => {
  it('invalid items are all named, and nothing is written', async () => {
    const error = await refused('batches', {
      body: {
        name: 'bad items',
        items: [
          batchItem(0),
          { smiles: 'C1CC' },                                        // RDKit cannot parse it
          { ...batchItem(1), smiles: 'O' },                               // methane's geometry for water
          { smiles: 'C', multiplicity: 2 },                          // 10 electrons cannot be a doublet
          { smiles: 'O', molecule_id: '00000000-0000-4000-8000-000000000000' },
          { smiles: 'O', charge: 'one' },
          { molecule_id: '00000000-0000-4000-8000-000000000000' },   // (checked once the rest is valid)
        ],
      },
    }, 422);
    expect(error.details.map((d: { path: string }) => d.path)).toEqual([
      'items[1].smiles', 'items[2].geometry', 'items[3].multiplicity', 'items[4].smiles', 'items[5].charge',
    ]);
    expect(error.message).toMatch(/^5 of 7 items are invalid/);
  });

  it('an item naming another user\'s molecule → 422, nothing written', async () => {
    const { batch } = await createBatch(clientFor(stranger.token), { name: 'theirs', items: [batchItem(0)] });
    const page = await call(`batches/${batch.id}`, { token: stranger.token });
    await refused('batches', { body: { name: 'steal', items: [batchItem(0), { molecule_id: page.body.items[0].molecule_id }] } }, 422, 'items[1].molecule_id');
  });

  it.each([
    [['--gfn', '2'], 'xtb_args[0]'], [['--iterations'], 'xtb_args[1]'], [['--iterations', '-1'], 'xtb_args[1]'],
    [['--acc', '1e9'], 'xtb_args[1]'], [['--cycles', '10', '--cycles', '20'], 'xtb_args[2]'], [['--etemp', '300; rm -rf /'], 'xtb_args[1]'],
  ])('xtb_args %j → 422', async (xtbArgs, path) => {
    await refused('batches', { body: { name: 'x', xtb_args: xtbArgs, items: [batchItem(0)] } }, 422, path);
  });

  it.each([
    [{ name: '', items: [batchItem(0)] }, 'name'], [{ name: 'x', items: [] }, 'items'], [{ name: 'x', max_attempts: 0, items: [batchItem(0)] }, 'max_attempts'],
    [{ name: 'x', method: 'DFT', items: [batchItem(0)] }, 'method'], [{ name: 'x', priority: 5000, items: [batchItem(0)] }, 'priority'],
    [{ name: 'x', items: Array.from({ length: 10_001 }, () => ({ smiles: 'O' })) }, 'items'],
  ])('%# envelope errors → 422 naming the field', async (body, path) => {
    await refused('batches', { body }, 422, path);
  });
});

describe('transport', () => {
  it('bodies that are not JSON → 400 or 415; anon → 401; wrong method → 405; unknown route → 404', async () => {
    await refused('batches/claim', { rawBody: '{"runner_id": ', method: 'POST' }, 400);
    await refused('batches/claim', { rawBody: 'runner_id=r', contentType: 'application/x-www-form-urlencoded', method: 'POST' }, 415);
    await refused('batches/complete', { rawBody: '', method: 'POST' }, 400);
    await refused(`batches/${batchId}/cancel`, { rawBody: 'yes', method: 'POST' }, 400);
    await refused('batches/claim', {}, 405);
    await refused(`batches/${batchId}`, { method: 'PUT' }, 405);
    await refused(`batches/${batchId}`, { method: 'DELETE' }, 409);
    await refused('batches/claim/now', { method: 'POST', body: {} }, 404);
    const anon = await call('batches/claim', { token: undefined, body: { runner_id: 'r' } });
    expect(anon.status).toBe(401);
    await refused('batches?limit=0', {}, 400, 'limit');
    await refused('batches?cursor=garbage', {}, 400, 'cursor');
    await refused(`batches/${batchId}?status=done`, {}, 400, 'status');
  });
});
