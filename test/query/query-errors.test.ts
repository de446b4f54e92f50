// Bad parameters: each is a 400 in the one error shape, naming the parameter; wrong methods are
// 405, unknown routes 404. Nothing is a 500.
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_EXPORT_LIMIT } from '../../shared/contract/query.ts';
import { call } from '../support/http.ts';
import { newUser, type TestUser } from '../support/users.ts';

let user: TestUser;
beforeAll(async () => {
  user = await newUser();
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const goodCursor = b64({ r: 'calculations', s: 'energy', o: 'asc', v: -1.5, id: '00000000-0000-4000-8000-000000000000' });

const BAD: [string, string][] = [
  ['calculations?sort=mass', 'sort'],
  ['calculations?sort=', 'sort'],
  ['calculations?order=up', 'order'],
  ['calculations?energy_min=-1&energy_max=-2', 'energy_min'],
  ['calculations?gap_min=5&gap_max=1', 'gap_min'],
  ['calculations?dipole_min=3&dipole_max=0', 'dipole_min'],
  ['calculations?n_atoms_min=9&n_atoms_max=3', 'n_atoms_min'],
  ['calculations?created_after=2026-02-01&created_before=2026-01-01', 'created_after'],
  ['calculations?energy_min=abc', 'energy_min'],
  ['calculations?energy_max=', 'energy_max'],
  ['calculations?gap_min=1e999', 'gap_min'],
  ['calculations?dipole_max=NaN', 'dipole_max'],
  ['calculations?n_atoms_min=2.5', 'n_atoms_min'],
  ['calculations?limit=1001', 'limit'],
  ['calculations?limit=0', 'limit'],
  ['calculations?limit=ten', 'limit'],
  ['calculations?cursor=not-a-cursor', 'cursor'],
  ['calculations?cursor=%25%25%25', 'cursor'],
  [`calculations?cursor=${b64({ r: 'calculations', s: 'energy', o: 'asc', v: 'x', id: 'nope' })}`, 'cursor'],
  [`calculations?cursor=${b64({ r: 'calculations', s: 'created_at', o: 'asc', v: 1, id: '00000000-0000-4000-8000-000000000000' })}`, 'cursor'],
  [`calculations?cursor=${b64({ r: 'events', o: 'asc', v: '2026-01-01T00:00:00.000000Z', id: '1' })}`, 'cursor'],
  [`calculations?cursor=${goodCursor}&sort=gap`, 'cursor'],
  [`calculations?cursor=${goodCursor}&order=desc`, 'cursor'],
  [`calculations?cursor=${b64([1, 2, 3])}`, 'cursor'],
  ['calculations?method=GFN3-xTB', 'method'],
  ['calculations?task=md', 'task'],
  ['calculations?=x', '(unnamed parameter)'],
  ['calculations?status=done', 'status'],
  ['calculations?solvent=water%20vapour', 'solvent'],
  ['calculations?molecule_id=123', 'molecule_id'],
  ['calculations?batch_id=xyz', 'batch_id'],
  ['calculations?inchikey=LFQSCWF', 'inchikey'],
  ['calculations?formula=co', 'formula'],
  ['calculations?formula=C2H6Xq', 'formula'],
  ['calculations?elements=C,Xx', 'elements'],
  ['calculations?elements=,', 'elements'],
  ['calculations?smiles=C1CC', 'smiles'],
  ['calculations?created_after=yesterday', 'created_after'],
  ['calculations?created_before=2026-13-45', 'created_before'],
  ['calculations?energy=1', 'energy'],
  ['calculations?limit=5&limit=6', 'limit'],
  ['calculations?user_id=me', 'user_id'],
  ['calculations/not-a-uuid', 'id'],
  ['calculations/00000000-0000-4000-8000-000000000000?verbose=1', 'verbose'],
  ['molecules/42', 'id'],
  ['molecules?smiles=)(', 'smiles'],
  ['molecules?name=', 'name'],
  ['molecules?limit=5000', 'limit'],
  ['molecules?cursor=abc', 'cursor'],
  ['molecules?sort=energy', 'sort'],
  ['stats?bins=0', 'bins'],
  ['stats?bins=1001', 'bins'],
  ['stats?bins=many', 'bins'],
  ['events?event_type=exploded', 'event_type'],
  ['events?entity_type=planet', 'entity_type'],
  ['events?entity_id=1', 'entity_id'],
  ['events?created_after=2026-01-02&created_before=2026-01-01', 'created_after'],
  [`events?cursor=${goodCursor}`, 'cursor'],
  ['events?limit=-1', 'limit'],
  ['export', 'format'],
  ['export?format=xyz', 'format'],
  ['export?format=csv&ref_keys=true', 'ref_keys'],
  ['export?format=extxyz&ref_keys=maybe', 'ref_keys'],
  ['export?format=extxyz&limit=0', 'limit'],
  [`export?format=extxyz&limit=${MAX_EXPORT_LIMIT + 1}`, 'limit'],
  ['export?format=extxyz&energy_min=2&energy_max=1', 'energy_min'],
  ['export?format=ndjson&cursor=zzz', 'cursor'],
];

describe('bad query parameters', () => {
  it.each(BAD)('GET /query/%s is a 400 naming %s', async (path, param) => {
    const res = await call(`query/${path}`, { token: user.token });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('invalid_parameter');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(param);
    expect(res.body.error.message).toContain(param);
  });

  it('answers 405 for other methods and 404 for unknown routes, in the same shape', async () => {
    const post = await call('query/calculations', { token: user.token, body: {} });
    expect(post.status).toBe(405);
    expect(post.body.error.code).toBe('method_not_allowed');
    expect((await call('query/calculations/00000000-0000-4000-8000-000000000000', { token: user.token, method: 'DELETE' })).status).toBe(405);
    const unknown = await call('query/atoms', { token: user.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('accepts the edges of every range', async () => {
    for (const path of [
      'calculations?limit=1000', 'calculations?limit=1', 'calculations?energy_min=-1&energy_max=-1',
      'calculations?created_after=2026-01-01&created_before=2026-01-01', 'calculations?created_after=2026-01-01T10:00:00%2B02:00',
      'calculations?solvent=GAS', 'calculations?inchikey=lfqscwflJHTTHZ-UHFFFAOYSA-N', 'calculations?elements=C,C,O',
      `calculations?cursor=${goodCursor}&sort=energy&order=asc`, 'stats?bins=1000', 'stats?bins=1', 'events?order=asc',
      `export?format=extxyz&ref_keys=1&limit=${MAX_EXPORT_LIMIT}`,
    ]) {
      const res = await call(`query/${path}`, { token: user.token });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });
});
