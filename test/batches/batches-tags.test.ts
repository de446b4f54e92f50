// A batch's tags reach the calculations its runners complete (complete_batch_items adds them after
// the calculation's own, each once), and `tag=` then finds them: /query/calculations by the
// calculation's tags, /query/molecules by the molecule's own tags or any of its calculations'.
import { beforeAll, describe, expect, it } from 'vitest';
import { claim, complete, completeMany, createBatch } from '../../shared/client-batches.ts';
import { clientFor } from '../support/client.ts';
import { call } from '../support/http.ts';
import { GEOMETRIES, resultFor } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

describe('batch tags', () => {
  let user: TestUser;
  let tagged: string[];
  let untagged: string;

  beforeAll(async () => {
    user = await newUser();
    const client = clientFor(user.token);
    const water = { smiles: 'O', name: 'water', geometry: GEOMETRIES.O };
    const tagsBatch = (await createBatch(client, { name: 'tagged', tags: ['campaign-7', 'solvents'], items: [water] })).batch.id;
    const plainBatch = (await createBatch(client, { name: 'plain', items: [{ smiles: 'C', name: 'methane' }] })).batch.id;

    const [it] = (await claim(client, { runner_id: 'tag-runner', batch_id: tagsBatch, limit: 1 })).items;
    // The result brings a tag of its own and one the batch has too: each appears once.
    const done = await complete(client, {
      runner_id: 'tag-runner', item_id: it.item_id, result: { ...resultFor(it), tags: ['mine', 'solvents'] },
    });
    const [plain] = (await claim(client, { runner_id: 'tag-runner', batch_id: plainBatch, limit: 1 })).items;
    const many = await completeMany(client, { runner_id: 'tag-runner', items: [{ item_id: plain.item_id, result: { ...resultFor(plain), tags: [] } }] });
    tagged = [done.calculation_id!];
    untagged = many.results[0].calculation_id!;
  }, 60_000);

  it('the completed calculation carries its own tags, then the batch\'s', async () => {
    const res = await call(`query/calculations/${tagged[0]}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.tags).toEqual(['mine', 'solvents', 'campaign-7']);
    const plain = await call(`query/calculations/${untagged}`, { token: user.token });
    expect(plain.body.tags).toEqual([]);
  });

  it('tag= on /calculations finds the batch\'s results only', async () => {
    const res = await call('query/calculations?tag=campaign-7', { token: user.token });
    expect(res.body.data.map((r: any) => r.id)).toEqual(tagged);
  });

  it('tag= on /molecules finds a molecule through its calculations\' tags', async () => {
    const res = await call('query/molecules?tag=campaign-7', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((m: any) => m.name)).toEqual(['water']);
    expect(res.body.data[0].tags).not.toContain('campaign-7');
    expect((await call('query/molecules?tag=no-such-tag', { token: user.token })).body.data).toEqual([]);
  });
});
