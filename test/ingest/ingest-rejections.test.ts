// Every way ingest refuses input: status, the JSON error shape naming the field, and nothing stored.
import { beforeAll, describe, expect, it } from 'vitest';
import { userCounts } from '../support/counts.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

let user: TestUser;
let before: Record<string, number>;

beforeAll(async () => {
  user = await newUser();
  before = await userCounts(user.id);
});

const post = (body: unknown, opts: { token?: string | null; contentType?: string } = {}) =>
  call('ingest', { method: 'POST', body, token: opts.token === undefined ? user.token : opts.token, contentType: opts.contentType });

function expectError(res: { status: number; body: any }, status: number, code?: string) {
  expect(res.status).toBe(status);
  expect(res.body).toHaveProperty('error.message');
  expect(typeof res.body.error.code).toBe('string');
  if (code) expect(res.body.error.code).toBe(code);
}

/** One item's rejection: the request is 200, the item says why, naming the field. */
async function expectItemRejected(item: unknown, path: RegExp) {
  const res = await post({ calculations: [item] });
  expect(res.status).toBe(200);
  const [r] = res.body.results;
  expect(r.outcome).toBe('rejected');
  expect(r.calculation_id).toBeNull();
  expect(r.errors.map((e: any) => e.path).join(' ')).toMatch(path);
  return r;
}

describe('ingest refuses', () => {
  it('the anon key and a missing token with 401', async () => {
    expectError(await post({ calculations: [calc()] }, { token: (await import('vitest')).inject('stack').anonKey }), 401, 'unauthorized');
    expectError(await post({ calculations: [calc()] }, { token: null }), 401, 'unauthorized');
  });

  it('a content type other than JSON with 415, and malformed or empty JSON with 400', async () => {
    expectError(await call('ingest', { method: 'POST', rawBody: 'x', contentType: 'text/plain', token: user.token }), 415, 'unsupported_media_type');
    expectError(await call('ingest', { method: 'POST', rawBody: '{"calculations": [', token: user.token }), 400, 'invalid_json');
    expectError(await call('ingest', { method: 'POST', rawBody: '', token: user.token }), 400, 'invalid_json');
  });

  it('an envelope without calculations with 422 naming the field', async () => {
    const res = await post({ calcs: [] });
    expectError(res, 422, 'invalid_payload');
    expect(res.body.error.details[0].path).toBe('calculations');
  });

  it('more than 1,000 items, and a body over 25 MB, with 413', async () => {
    expectError(await post({ calculations: Array.from({ length: 1001 }, () => ({})) }), 413, 'payload_too_large');
    const huge = JSON.stringify({ calculations: [calc({ extra: { metadata: { blob: 'x'.repeat(26 * 1024 * 1024) } } })] });
    expectError(await call('ingest', { method: 'POST', rawBody: huge, token: user.token }), 413, 'payload_too_large');
  });

  it('a service-role request without user_id, and a user naming another user', async () => {
    const { serviceRoleKey } = (await import('vitest')).inject('stack');
    const res = await post({ calculations: [calc()] }, { token: serviceRoleKey });
    expectError(res, 422);
    expect(res.body.error.details[0].path).toBe('user_id');
    const other = await newUser();
    expectError(await post({ user_id: other.id, calculations: [calc()] }), 403, 'forbidden');
  });

  it('non-finite numbers, per item', async () => {
    const raw = JSON.stringify({ calculations: [calc({ seed: 1 })] }).replace('-5.070545', '1e999');
    const res = await call('ingest', { method: 'POST', rawBody: raw, token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.results[0].outcome).toBe('rejected');
    expect(res.body.results[0].errors[0].path).toBe('calculations[0].results.total_energy_eh');
    await expectItemRejected({ ...calc(), results: { ...calc().results, homo_lumo_gap_ev: 'NaN' } }, /calculations\[0\]\.results\.homo_lumo_gap_ev/);
  });

  it('a SMILES RDKit cannot parse, one over 2,000 characters, and one whose formula disagrees with the geometry', async () => {
    // Read before RDKit: an unclosed ring, and heavy atoms the geometry does not have.
    const bad = await expectItemRejected(calc({ smiles: 'C1CC', geometryOf: 'O' }), /calculations\[0\]\.molecule\.smiles/);
    expect(bad.errors[0].issue).toBe('cannot parse the SMILES "C1CC": ring bond 1 is never closed');
    await expectItemRejected(calc({ smiles: 'C'.repeat(2001), geometryOf: 'O' }), /calculations\[0\]\.molecule\.smiles/);
    const heavy = await expectItemRejected(calc({ smiles: 'CCO', geometryOf: 'O' }), /calculations\[0\]\.geometry/);
    expect(heavy.errors[0].issue).toMatch(/heavy atoms are O but the SMILES CCO has C2O/);
    // RDKit's own refusal (a valence it does not allow), and hydrogens only RDKit can count.
    const trivalentOxygen = await expectItemRejected({ ...calc({ smiles: 'O' }), molecule: { smiles: '[OH3]' } }, /calculations\[0\]\.molecule\.smiles/);
    expect(trivalentOxygen.errors[0].issue).toMatch(/RDKit cannot parse/);
    const mismatch = await expectItemRejected(calc({ smiles: 'CO', geometryOf: 'O' }), /calculations\[0\]\.geometry/);
    expect(mismatch.errors[0].issue).toMatch(/heavy atoms are O but the SMILES CO has CO/);
    const hydrogens = await expectItemRejected(calc({ smiles: '[O]', geometryOf: 'O' }), /calculations\[0\]\.geometry/);
    expect(hydrogens.errors[0].issue).toMatch(/H2O.*\[O\] is O \(with hydrogens\)/);
  });

  it('more than 10,000 atoms, wrong per-atom counts, unknown elements and methods', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ element: 'H', xyz: [i, 0, 0] }));
    await expectItemRejected({ ...calc(), geometry: many, charges: null }, /calculations\[0\]\.geometry/);
    await expectItemRejected({ ...calc(), charges: [0.1] }, /calculations\[0\]\.charges/);
    await expectItemRejected({ ...calc(), gradient: [[0, 0, 0]] }, /calculations\[0\]\.gradient/);
    await expectItemRejected({ ...calc(), geometry: [{ element: 'Xx', xyz: [0, 0, 0] }] }, /calculations\[0\]\.geometry\[0\]\.element/);
    await expectItemRejected({ ...calc(), method: 'B3LYP' }, /calculations\[0\]\.method/);
    await expectItemRejected({ ...calc(), status: 'completed', results: null }, /calculations\[0\]\.results/);
    await expectItemRejected({ ...calc(), status: 'failed', results: null, error_message: null }, /calculations\[0\]\.error_message/);
    await expectItemRejected({ ...calc(), multiplicity: 0 }, /calculations\[0\]\.multiplicity/);
    await expectItemRejected({ ...calc(), results: { ...calc().results, homo_lumo_gap_ev: -1 } }, /homo_lumo_gap_ev/);
  });

  it('and through all of it nothing was stored', async () => {
    expect(await userCounts(user.id)).toEqual(before);
  });
});

describe('a mixed request', () => {
  it('stores the valid items, rejects the others, and answers 200 in order', async () => {
    const mixed = await newUser();
    const res = await call('ingest', {
      method: 'POST',
      token: mixed.token,
      body: { calculations: [calc({ seed: 1 }), calc({ smiles: 'C1CC' }), calc({ seed: 2 }), { nonsense: true }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.outcome)).toEqual(['created', 'rejected', 'created', 'rejected']);
    expect(res.body.results.map((r: any) => r.index)).toEqual([0, 1, 2, 3]);
    expect(res.body.counts).toEqual({ created: 2, duplicate: 0, updated: 0, rejected: 2, deferred: 0 });
    const counts = await userCounts(mixed.id);
    expect(counts.calculations).toBe(2);
    expect(counts.molecules).toBe(1);
  });
});
