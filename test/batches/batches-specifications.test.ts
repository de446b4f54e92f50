// Settings are part of a calculation's identity: batch B1 (xtb's defaults) and batch B2
// (`--etemp 5000`) on the same molecule and geometry give two calculations with two specification
// hashes, each batch's filter returns its own result, and a batch item answered by a stored
// calculation (a duplicate) is found through its link by `batch_id`, export and bulk delete alike.
import { beforeAll, describe, expect, it } from 'vitest';
import { claim, complete, createBatch } from '../../shared/client-batches.ts';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { GEOMETRIES, resultFor } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

/** What the runner sends: the item's result, with the words xtb was run with. */
const runnerResult = (it: ClaimedItem, energy: number): IngestCalculationInput => ({
  ...resultFor(it, { energy }),
  xtb_args: ['input.xyz', '--gfn', '2', '--chrg', '0', '--uhf', '0', '--json', ...it.xtb_args],
});

describe('specifications in the identity: B1 (defaults) and B2 (--etemp 5000)', () => {
  let user: TestUser;
  let b1: string, b2: string, b3: string;
  let b1Item: ClaimedItem;
  let b1Done: { calculation_id: string; outcome: string };
  let b2Done: { calculation_id: string; outcome: string };
  let b3Done: { calculation_id: string; outcome: string };

  const runOne = async (batchId: string, energy: number) => {
    const client = clientFor(user.token);
    const [it] = (await claim(client, { runner_id: 'spec-runner', batch_id: batchId, limit: 1 })).items;
    const done = await complete(client, { runner_id: 'spec-runner', item_id: it.item_id, result: runnerResult(it, energy) });
    return { it, done };
  };

  beforeAll(async () => {
    user = await newUser();
    const client = clientFor(user.token);
    const item = { smiles: 'O', name: 'water', geometry: GEOMETRIES.O };
    b1 = (await createBatch(client, { name: 'B1 defaults', items: [item] })).batch.id;
    b2 = (await createBatch(client, { name: 'B2 etemp', xtb_args: ['--etemp', '5000'], items: [item] })).batch.id;
    // B3 writes the defaults out: it asks the question B1 asked.
    b3 = (await createBatch(client, { name: 'B3 explicit defaults', xtb_args: ['--acc', '1.0', '--etemp', '300'], items: [item] })).batch.id;
    ({ it: b1Item, done: b1Done } = await runOne(b1, -5.0701));
    ({ done: b2Done } = await runOne(b2, -5.0702));
    ({ done: b3Done } = await runOne(b3, -5.0703));
  });

  const hashOf = async (calculationId: string) => {
    const [row] = await adminSql()`
      select s.spec_hash, s.spec from public.calculations c join public.specifications s on s.id = c.specification_id
       where c.id = ${calculationId}`;
    return row as { spec_hash: string; spec: Record<string, unknown> };
  };

  it('stores B1 and B2 as two calculations with different specification hashes', async () => {
    expect(b1Done.outcome).toBe('created');
    expect(b2Done.outcome).toBe('created');
    expect(b2Done.calculation_id).not.toBe(b1Done.calculation_id);
    const [s1, s2] = [await hashOf(b1Done.calculation_id), await hashOf(b2Done.calculation_id)];
    expect(s1.spec_hash).not.toBe(s2.spec_hash);
    expect(s1.spec).toMatchObject({ program: 'xtb', method: 'GFN2-xTB', task: 'sp', electronic_temperature_k: 300, accuracy: 1 });
    expect(s2.spec).toMatchObject({ electronic_temperature_k: 5000 });
    const energies = await adminSql()`select id, total_energy_eh from public.calculations where id in ${adminSql()([b1Done.calculation_id, b2Done.calculation_id])}`;
    expect(Object.fromEntries(energies.map((r) => [r.id, r.total_energy_eh]))).toEqual({
      [b1Done.calculation_id]: -5.0701, [b2Done.calculation_id]: -5.0702,
    });
  });

  it('?batch_id=B2 returns B2\'s result, and B1\'s returns B1\'s', async () => {
    for (const [batch, expected] of [[b2, b2Done], [b1, b1Done]] as const) {
      const res = await call(`query/calculations?batch_id=${batch}`, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body.data.map((r: { id: string }) => r.id)).toEqual([expected.calculation_id]);
    }
  });

  it('explicit defaults (--acc 1.0 --etemp 300) are B1\'s specification: B3\'s item is answered by B1\'s calculation, as a duplicate', async () => {
    expect(b3Done).toMatchObject({ outcome: 'duplicate', calculation_id: b1Done.calculation_id });
    const [item] = await adminSql()`select status, calculation_id from public.batch_items where batch_job_id = ${b3}`;
    expect(item).toEqual({ status: 'completed', calculation_id: b1Done.calculation_id });
  });

  it('batch_id follows each item\'s link: B3 finds B1\'s calculation in query, export and bulk delete', async () => {
    const list = await call(`query/calculations?batch_id=${b3}`, { token: user.token });
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([b1Done.calculation_id]);
    const ndjson = await call(`query/export?format=ndjson&batch_id=${b3}`, { token: user.token });
    // One line of ndjson is one JSON object: the helper hands it over parsed.
    expect(ndjson.body.id).toBe(b1Done.calculation_id);
    const dry = await call('ingest/delete', { token: user.token, body: { filters: { batch_id: b3 }, dry_run: true } });
    expect(dry.status).toBe(200);
    expect(dry.body.deleted.calculations).toBe(1);
  });

  it('re-sending B1\'s result is still a duplicate', async () => {
    const again = await clientFor(user.token).ingest([runnerResult(b1Item, -5.0701)]);
    expect(again[0]).toMatchObject({ outcome: 'duplicate', calculation_id: b1Done.calculation_id });
    const resent = await complete(clientFor(user.token), { runner_id: 'spec-runner', item_id: b1Item.item_id, result: runnerResult(b1Item, -5.0701) });
    expect(resent).toMatchObject({ already_completed: true, calculation_id: b1Done.calculation_id });
  });

  it('refuses a result whose xtb_args do not give the batch\'s specification, naming the path', async () => {
    const client = clientFor(user.token);
    const { items: [item] } = await createBatch(client, {
      name: 'B4 etemp', xtb_args: ['--etemp', '5000'],
      items: [{ smiles: 'O', geometry: GEOMETRIES.O.map((a) => ({ ...a, xyz: [a.xyz[0] + 0.3, a.xyz[1], a.xyz[2]] as [number, number, number] })) }],
    }).then(async (r) => claim(client, { runner_id: 'old-runner', batch_id: r.batch.id, limit: 1 }));
    // A runner that does not pass the batch's xtb_args on: its result claims xtb's defaults.
    const res = await call('batches/complete', {
      token: user.token,
      body: { runner_id: 'old-runner', item_id: item.item_id, result: resultFor(item) },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('result.xtb_args');
    expect(res.body.error.details[0].issue).toMatch(/electronic_temperature_k 300.*electronic_temperature_k 5000/);
    const [row] = await adminSql()`select status, calculation_id from public.batch_items where id = ${item.item_id}`;
    expect(row).toEqual({ status: 'claimed', calculation_id: null });
  });
});
