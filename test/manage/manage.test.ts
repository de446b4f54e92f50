// Correcting and removing data: PATCH and DELETE of molecules and calculations, bulk delete by
// filter and source, on the record in event_logs, with exact stats afterwards.
import { describe, expect, it } from 'vitest';
import { bulkDelete, deleteCalculation, deleteMolecule, patchCalculation, patchMolecule } from '../../shared/client-manage.ts';
import { clientFor } from '../support/client.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

const events = async (userId: string, type: string) =>
  adminSql()`select entity_id, payload from public.event_logs where user_id = ${userId} and event_type = ${type} order by id`;

async function statsOf(userId: string) {
  const [s] = await adminSql()`select * from public.user_stats where user_id = ${userId}`;
  const [real] = await adminSql()`
    select (select count(*) from public.molecules where user_id = ${userId})::int as molecules,
           (select count(*) from public.calculations where user_id = ${userId} and status = 'completed')::int as completed,
           (select count(*) from public.calculations where user_id = ${userId} and status = 'failed')::int as failed,
           (select count(*) from public.atomic_properties where user_id = ${userId})::int as atoms`;
  return { kept: { molecules: Number(s?.molecules ?? 0), completed: Number(s?.calculations_completed ?? 0), failed: Number(s?.calculations_failed ?? 0), atoms: Number(s?.atoms ?? 0) }, real };
}

describe('PATCH', () => {
  it('changes a molecule\'s name, tags and metadata (merged) and refuses identity fields', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [r] = await client.ingest([calc({ seed: 1 })]);
    await patchMolecule(client, r.molecule_id!, { metadata: { a: 1, b: 1 } });
    const row = await patchMolecule(client, r.molecule_id!, { name: 'water', tags: ['solvents'], metadata: { b: 2 } });
    expect(row).toMatchObject({ name: 'water', tags: ['solvents'], metadata: { a: 1, b: 2 }, canonical_smiles: 'O' });

    const before = await userCounts(user.id);
    const refused = await call(`ingest/molecules/${r.molecule_id}`, { method: 'PATCH', token: user.token, body: { inchikey: 'AAAAAAAAAAAAAA-BBBBBBBBBB-C' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].path).toBe('inchikey');
    const smiles = await call(`ingest/molecules/${r.molecule_id}`, { method: 'PATCH', token: user.token, body: { canonical_smiles: 'CC' } });
    expect(smiles.status).toBe(422);
    expect(await userCounts(user.id)).toEqual(before);
  });

  it('changes a calculation\'s tags and metadata but never its results', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [r] = await client.ingest([calc({ seed: 2 })]);
    expect(await patchCalculation(client, r.calculation_id!, { tags: ['checked'], metadata: { reviewer: 'kb' } }))
      .toMatchObject({ tags: ['checked'], metadata: { reviewer: 'kb' } });
    const refused = await call(`ingest/calculations/${r.calculation_id}`, { method: 'PATCH', token: user.token, body: { total_energy_eh: 1 } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].path).toBe('total_energy_eh');
  });
});

describe('DELETE', () => {
  it('deletes a calculation with its atoms, logging a snapshot', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [r] = await client.ingest([calc({ seed: 3, withGradient: true })]);
    expect(await deleteCalculation(client, r.calculation_id!)).toEqual({ deleted: { calculations: 1, atoms: 3, molecules: 0 } });
    expect((await userCounts(user.id)).atomic_properties).toBe(0);
    const [e] = await events(user.id, 'calculation_deleted');
    expect(e.entity_id).toBe(r.calculation_id);
    expect(e.payload).toMatchObject({ method: 'GFN2-xTB', status: 'completed' });
    const again = await call(`ingest/calculations/${r.calculation_id}`, { method: 'DELETE', token: user.token });
    expect(again.status).toBe(404);
    const { kept, real } = await statsOf(user.id);
    expect(kept).toEqual(real);
  });

  it('refuses with 409 a molecule a live batch item needs, and force cancels the item first', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [r] = await client.ingest([calc({ seed: 4 })]);
    const sql = adminSql();
    const [job] = await sql`insert into public.batch_jobs (user_id, name, method, task) values (${user.id}, 'b', 'GFN2-xTB', 'sp') returning id`;
    await sql`insert into public.batch_items (user_id, batch_job_id, molecule_id) values (${user.id}, ${job.id}, ${r.molecule_id})`;
    const before = await userCounts(user.id);
    const refused = await call(`ingest/molecules/${r.molecule_id}`, { method: 'DELETE', token: user.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    expect(await userCounts(user.id)).toEqual(before);

    const forced = await deleteMolecule(client, r.molecule_id!, { force: true });
    expect(forced).toEqual({ deleted: { calculations: 1, atoms: 3, molecules: 1 }, cancelled_batch_items: 1 });
    expect((await events(user.id, 'molecule_deleted')).map((e) => e.entity_id)).toEqual([r.molecule_id]);
    expect(await events(user.id, 'calculation_deleted')).toHaveLength(1);
    const { kept, real } = await statsOf(user.id);
    expect(kept).toEqual(real);
  });

  it('answers 404 to another user on every route and changes nothing of theirs', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const [r] = await clientFor(alice.token).ingest([calc({ seed: 5 })]);
    const before = await userCounts(alice.id);
    const routes: [string, string, unknown?][] = [
      ['PATCH', `ingest/molecules/${r.molecule_id}`, { name: 'stolen' }],
      ['PATCH', `ingest/calculations/${r.calculation_id}`, { tags: ['stolen'] }],
      ['DELETE', `ingest/calculations/${r.calculation_id}`],
      ['DELETE', `ingest/molecules/${r.molecule_id}?force=true`],
    ];
    for (const [method, path, body] of routes) {
      const res = await call(path, { method, token: bob.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const bulk = await bulkDelete(clientFor(bob.token), { confirm: 'all', dry_run: false, delete_orphan_molecules: true });
    expect(bulk.deleted).toEqual({ calculations: 0, atoms: 0, molecules: 0 });
    expect(await userCounts(alice.id)).toEqual(before);
    const malformed = await call('ingest/calculations/not-a-uuid', { method: 'DELETE', token: bob.token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].path).toBe('id');
  });
});

describe('bulk delete', () => {
  it('dry-run counts equal what the real run deletes; source removes exactly one upload', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const a = Array.from({ length: 6 }, (_, i) => calc({ seed: 100 + i, withGradient: i % 2 === 0, extra: { source: `upload:2025-03/job-${i}` } }));
    const b = Array.from({ length: 4 }, (_, i) => calc({ smiles: 'C', seed: 200 + i, extra: { source: `upload:2025-04/job-${i}` } }));
    await client.ingest([...a, ...b]);

    const refused = await call('ingest/delete', { token: user.token, body: { dry_run: false } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].path).toBe('confirm');

    const dry = await bulkDelete(client, { source: 'upload:2025-04/', source_prefix: true, delete_orphan_molecules: true });
    expect(dry).toEqual({ dry_run: true, deleted: { calculations: 4, atoms: 20, molecules: 1 }, orphan_molecules_kept: 0 });
    expect((await userCounts(user.id)).calculations).toBe(10);

    const eventsBefore = (await events(user.id, 'calculation_deleted')).length;
    const real = await bulkDelete(client, { source: 'upload:2025-04/', source_prefix: true, delete_orphan_molecules: true, dry_run: false });
    expect(real).toEqual({ ...dry, dry_run: false });
    const counts = await userCounts(user.id);
    expect(counts).toMatchObject({ calculations: 6, molecules: 1, atomic_properties: 18 });
    expect((await events(user.id, 'calculation_deleted')).length - eventsBefore).toBe(4);
    expect(await events(user.id, 'molecule_deleted')).toHaveLength(1);

    const byFilter = await bulkDelete(client, { filters: { task: 'grad' }, dry_run: false });
    expect(byFilter).toEqual({ dry_run: false, deleted: { calculations: 3, atoms: 9, molecules: 0 }, orphan_molecules_kept: 0 });
    const { kept, real: live } = await statsOf(user.id);
    expect(kept).toEqual(live);
  });

  it('rejects a bad filter with 422 naming it, and deletes nothing', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    await client.ingest([calc({ seed: 9 })]);
    const before = await userCounts(user.id);
    const res = await call('ingest/delete', { token: user.token, body: { filters: { energy_min: 'lots' }, dry_run: false } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toMatch(/filters\.energy_min/);
    const unknown = await call('ingest/delete', { token: user.token, body: { filters: { colour: 'blue' }, dry_run: false } });
    expect(unknown.status).toBe(422);
    expect(await userCounts(user.id)).toEqual(before);
  });
});
