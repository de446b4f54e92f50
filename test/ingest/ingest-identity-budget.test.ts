// The per-request RDKit budget and the identities remembered across requests, on a private stack
// whose budget is 1 ms (each request identifies exactly one new molecule: the first is always
// tried) and whose InChI limit is generous (no molecule is too slow, whatever the machine's load).
// Also: molecule keys end to end (tautomers), and rows written before molecule keys existed.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfClient } from '../../shared/client.ts';
import { createBatch } from '../../shared/client-batches.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { backfillMoleculeKeys } from '../../scripts/molecule-keys/backfill.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { calcWithAtoms } from '../support/payloads.ts';
import { createUser } from '../support/users.ts';

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack({ RDKIT_BUDGET_MS: '1', INCHI_TIMEOUT_MS: '30000' });
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await stack?.destroy();
});

const newUser = () => createUser(sql, stack.jwtSecret);

/** A typed client that counts its HTTP requests. */
function countingClient(token: string) {
  const supabase = nodeSupabase(stack.url, token);
  let requests = 0;
  const invoker = { functions: { invoke: ((...args: Parameters<typeof supabase.functions.invoke>) => { requests++; return supabase.functions.invoke(...args); }) as typeof supabase.functions.invoke } };
  return { client: new QfClient(invoker as never), requests: () => requests };
}

async function post(path: string, token: string, body: unknown) {
  const res = await fetch(`${stack.url}/functions/v1/${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

async function get(path: string, token: string) {
  const res = await fetch(`${stack.url}/functions/v1/${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() as any };
}

// Symmetric alkyl ethers C(n)OC(n): a new molecule for every n, with its element counts.
let next = 1;
function ethers(count: number) {
  return Array.from({ length: count }, () => {
    const n = next++;
    return { smiles: `${'C'.repeat(n)}O${'C'.repeat(n)}`, counts: { C: 2 * n, H: 4 * n + 2, O: 1 } };
  });
}

describe('the per-request RDKit budget', () => {
  it('identifies the first new molecule and defers the others, naming the budget; nothing is stored for them', async () => {
    const user = await newUser();
    const [a, b, c] = ethers(3);
    const res = await post('ingest', user.token, { calculations: [calcWithAtoms(a.smiles, a.counts), calcWithAtoms(b.smiles, b.counts), calcWithAtoms(c.smiles, c.counts)] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.outcome)).toEqual(['created', 'deferred', 'deferred']);
    expect(res.body.counts).toMatchObject({ created: 1, deferred: 2 });
    expect(res.body.results[1].errors[0]).toMatchObject({ path: 'calculations[1].molecule.smiles', issue: expect.stringMatching(/RDKit budget \(1 ms\)/) });
    const [{ n }] = await sql`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    expect(n).toBe(1);
  });

  it('the typed client sends deferred items again until every one is stored, one request per new molecule', async () => {
    const user = await newUser();
    const mols = ethers(5);
    const { client, requests } = countingClient(user.token);
    const results = await client.ingest(mols.map((m, i) => calcWithAtoms(m.smiles, m.counts, i)));
    expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('created'));
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(requests()).toBe(5);
  });

  it('a molecule once identified is remembered in the database: after a restart, for another user, no deferral', async () => {
    const first = await newUser();
    const mols = ethers(3);
    await countingClient(first.token).client.ingest(mols.map((m) => calcWithAtoms(m.smiles, m.counts)));
    const stored = await sql`select count(*)::int as n from private.molecule_identities where input_smiles = any (${mols.map((m) => m.smiles)}::text[])`;
    expect(stored[0].n).toBe(3);
    // A new isolate knows nothing; only the database can answer for all three in one request.
    await stack.functions.restart();
    const second = await newUser();
    const res = await post('ingest', second.token, { calculations: mols.map((m, i) => calcWithAtoms(m.smiles, m.counts, i + 10)) });
    expect(res.body.results.map((r: any) => r.outcome)).toEqual(['created', 'created', 'created']);
  }, 180_000);

  it('a batch of new molecules: 503 identification_budget, nothing written; the typed client sends it again until it is created', async () => {
    const user = await newUser();
    const mols = ethers(3);
    const body = { name: 'budget', items: mols.map((m) => ({ smiles: m.smiles })) };
    const first = await post('batches', user.token, body);
    expect(first.status).toBe(503);
    expect(first.body.error).toMatchObject({ code: 'identification_budget', message: expect.stringMatching(/1 of 3 molecules were identified/) });
    const [{ n }] = await sql`select count(*)::int as n from public.batch_jobs where user_id = ${user.id}`;
    expect(n).toBe(0);
    // createBatch is sent with retry: false (not idempotent); this 503 wrote nothing, so it is sent again anyway.
    const { client, requests } = countingClient(user.token);
    const created = await createBatch(client, body);
    expect(created.counts).toMatchObject({ items: 3, molecules_created: 3 });
    expect(requests()).toBe(2); // one of the three was identified by the first 503 above
  });

  it('stores a 1,200-atom molecule (V3000 territory for molblocks), and refuses 501 heavy atoms before RDKit', async () => {
    const user = await newUser();
    const res = await post('ingest', user.token, {
      calculations: [calcWithAtoms(`${'C'.repeat(399)}O`, { C: 399, H: 800, O: 1 }), calcWithAtoms('C'.repeat(501), { C: 501, H: 1004 })],
    });
    expect(res.body.results[0].outcome).toBe('created');
    expect(res.body.results[1]).toMatchObject({ outcome: 'rejected', errors: [{ path: 'calculations[1].molecule.smiles', issue: expect.stringMatching(/501 heavy atoms/) }] });
    const [m] = await sql`select n_atoms, formula from public.molecules where id = ${res.body.results[0].molecule_id}`;
    expect(m).toEqual({ n_atoms: 1200, formula: 'C399H800O' });
  }, 120_000);
});

describe('molecule keys', () => {
  it('stores 2-pyridone and 2-hydroxypyridine as two molecules, each with its SMILES; inchikey= finds both, smiles= one', async () => {
    const user = await newUser();
    const { client } = countingClient(user.token);
    const counts = { C: 5, H: 5, N: 1, O: 1 };
    const [pyridone, hydroxy] = await client.ingest([calcWithAtoms('O=c1cccc[nH]1', counts), calcWithAtoms('Oc1ccccn1', counts)]);
    expect(pyridone.outcome).toBe('created');
    expect(hydroxy.outcome).toBe('created');
    expect(pyridone.molecule_id).not.toBe(hydroxy.molecule_id);
    const rows = await sql`select input_smiles, canonical_smiles, inchikey, molecule_key from public.molecules where user_id = ${user.id} order by input_smiles`;
    expect(rows.map((r) => r.input_smiles)).toEqual(['O=c1cccc[nH]1', 'Oc1ccccn1']);
    expect(new Set(rows.map((r) => r.inchikey))).toEqual(new Set(['UBQKCCHYAOITMY-UHFFFAOYSA-N']));
    expect(new Set(rows.map((r) => r.molecule_key)).size).toBe(2);

    const both = await get('query/calculations?inchikey=UBQKCCHYAOITMY-UHFFFAOYSA-N', user.token);
    expect(both.status).toBe(200);
    expect(both.body.data.map((c: any) => c.molecule_id).sort()).toEqual([pyridone.molecule_id, hydroxy.molecule_id].sort());
    const one = await get(`query/calculations?smiles=${encodeURIComponent('O=C1NC=CC=C1')}`, user.token);
    expect(one.body.data.map((c: any) => c.molecule_id)).toEqual([pyridone.molecule_id]);
    const molecules = await get(`query/molecules?smiles=${encodeURIComponent('Oc1ccccn1')}`, user.token);
    expect(molecules.body.data.map((m: any) => m.id)).toEqual([hydroxy.molecule_id]);
  });

  it('a row written before molecule keys is adopted by the next ingest of its molecule, or keyed by the backfill', async () => {
    const user = await newUser();
    // As the previous version wrote them: no molecule_key.
    const [ethanol] = await sql`
      insert into public.molecules (user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values (${user.id}, 'CCO', 'LFQSCWFLJHTTHZ-UHFFFAOYSA-N', 'C2H6O', 'OCC', 9) returning id`;
    const [pyridone] = await sql`
      insert into public.molecules (user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values (${user.id}, 'O=c1cccc[nH]1', 'UBQKCCHYAOITMY-UHFFFAOYSA-N', 'C5H5NO', 'O=c1cccc[nH]1', 11) returning id`;
    const { client } = countingClient(user.token);
    const [e] = await client.ingest([calcWithAtoms('C(O)C', { C: 2, H: 6, O: 1 })]);
    expect(e).toMatchObject({ outcome: 'created', molecule_id: ethanol.id });
    // The other tautomer is another molecule: it does not take the legacy row.
    const [h] = await client.ingest([calcWithAtoms('Oc1ccccn1', { C: 5, H: 5, N: 1, O: 1 })]);
    expect(h.molecule_id).not.toBe(pyridone.id);
    const before = await sql`select molecule_key from public.molecules where id = ${pyridone.id}`;
    expect(before[0].molecule_key).toBeNull();
    const report = await backfillMoleculeKeys(stack.dbUrl);
    expect(report.conflicts).toEqual([]);
    expect(report.keyed).toBeGreaterThanOrEqual(1);
    const keys = await sql`select id, molecule_key from public.molecules where user_id = ${user.id}`;
    expect(keys.every((k) => /^[A-Z]{14}-[A-Z]{10}-[A-Z]$/.test(k.molecule_key))).toBe(true);
    expect(new Set(keys.map((k) => k.molecule_key)).size).toBe(keys.length);
  });
});
