// ingest under several users at once: isolation, and eight clients racing on the same identities.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { calc } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('tenants', () => {
  it('a user cannot attach a result to another user\'s batch item, nor read another user\'s rows', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const sql = adminSql();
    const [job] = await sql`insert into public.batch_jobs (user_id, name, method, task) values (${alice.id}, 'alice batch', 'GFN2-xTB', 'sp') returning id`;
    const [mol] = await sql`insert into public.molecules (user_id, canonical_smiles, inchikey, formula, n_atoms, input_smiles)
      values (${alice.id}, 'O', 'XLYOFNOQVPJJNP-UHFFFAOYSA-N', 'H2O', 3, 'O') returning id`;
    const [item] = await sql`insert into public.batch_items (user_id, batch_job_id, molecule_id) values (${alice.id}, ${job.id}, ${mol.id}) returning id`;

    const [r] = await clientFor(bob.token).ingest([calc({ seed: 4, extra: { batch_item_id: item.id } })]);
    expect(r.outcome).toBe('rejected');
    expect(r.errors).toEqual([{ path: 'calculations[0].batch_item_id', issue: 'no such batch item' }]);

    const [mine] = await clientFor(alice.token).ingest([calc({ seed: 4, extra: { batch_item_id: item.id } })]);
    expect(mine.outcome).toBe('created');
    const seenByBob = await asRole(API_ROLE, bob.id, (tx) => tx`select id from public.calculations where id = ${mine.calculation_id}`);
    expect(seenByBob).toEqual([]);
    const seenByAlice = await asRole(API_ROLE, alice.id, (tx) => tx`select batch_item_id from public.calculations where id = ${mine.calculation_id}`);
    expect(seenByAlice).toEqual([{ batch_item_id: item.id }]);
  });

  it('the service-role key writes for the user it names', async () => {
    const carol = await newUser();
    const [r] = await clientFor(inject('stack').serviceRoleKey).ingest([calc({ seed: 5 })], { userId: carol.id });
    expect(r.outcome).toBe('created');
    const [row] = await adminSql()`select user_id from public.calculations where id = ${r.calculation_id}`;
    expect(row.user_id).toBe(carol.id);
  });
});

describe('concurrency', () => {
  it('8 clients posting overlapping items at once yield exactly one row per identity', async () => {
    const user = await newUser();
    const identities = Array.from({ length: 40 }, (_, i) => calc({ smiles: ['O', 'C', 'CCO', 'OCC'][i % 4], geometryOf: (['O', 'C', 'CCO', 'CCO'] as const)[i % 4], seed: i }));
    const results = await Promise.all(Array.from({ length: 8 }, (_, k) => {
      // Each client sends an overlapping, differently ordered slice.
      const slice = identities.slice(k * 3, k * 3 + 20);
      return clientFor(user.token).ingest(k % 2 ? slice.reverse() : slice);
    }));
    const ids = new Set(results.flat().map((r) => r.calculation_id));
    const [{ n }] = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    const distinctSent = new Set(Array.from({ length: 8 }, (_, k) => identities.slice(k * 3, k * 3 + 20)).flat()).size;
    expect(n).toBe(distinctSent);
    expect(ids.size).toBe(distinctSent);
    expect(results.flat().filter((r) => r.outcome === 'created')).toHaveLength(distinctSent);
    const [{ m }] = await adminSql()`select count(*)::int as m from public.molecules where user_id = ${user.id}`;
    expect(m).toBe(3);
  });
});
