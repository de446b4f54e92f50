// Sorting by a value some rows lack (energy, gap, dipole) drops no row: the rows with the value
// come first in (value, id) order, then the rows without it in id order, `order` setting the
// direction of both; the keyset cursor walks across that boundary, in /calculations pages and in
// export parts (limit + X-Next-Cursor), and a filter that leaves only rows without the value
// still lists them.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { allPages } from './query-helpers.ts';

let user: TestUser;
const KEY = { energy: 'total_energy_eh', gap: 'homo_lumo_gap_ev', dipole: 'dipole_debye' } as const;
type Sort = keyof typeof KEY;
let rows: Record<string, any>[];

beforeAll(async () => {
  user = await newUser();
  const items = await Promise.all([
    // Completed, with repeated energies so ties are broken by id; some without a gap or dipole.
    ...Array.from({ length: 9 }, (_, i) => calcOf('CCO', { seed: i, energy: -10 - (i % 3), gap: i % 4 ? 4 + i : null, dipole: i % 5 ? i : null })),
    // Failed: no value at all.
    ...Array.from({ length: 7 }, (_, i) => calcOf('CCO', { seed: 100 + i, status: 'failed' })),
  ]);
  const results = await clientFor(user.token).ingest(items);
  expect(results.filter((r) => r.outcome === 'created')).toHaveLength(16);
  rows = await allPages('query/calculations?limit=1000', user.token);
  expect(rows).toHaveLength(16);
}, 60_000);

/** The listing order the docs promise: values first in (value, id) order, then nulls in id order. */
function expected(sort: Sort, order: 'asc' | 'desc'): string[] {
  const key = KEY[sort];
  const dir = order === 'asc' ? 1 : -1;
  const byId = (a: any, b: any) => (a.id < b.id ? -1 : 1) * dir;
  const valued = rows.filter((r) => r[key] !== null).sort((a, b) => (a[key] - b[key]) * dir || byId(a, b));
  const nulls = rows.filter((r) => r[key] === null).sort(byId);
  return [...valued, ...nulls].map((r) => r.id);
}

const CASES = (['energy', 'gap', 'dipole'] as const).flatMap((s) => (['asc', 'desc'] as const).map((o) => [s, o] as const));

describe('sorting by a nullable value', () => {
  it('the data mixes rows with and without each value', () => {
    for (const key of Object.values(KEY)) {
      expect(rows.filter((r) => r[key] === null).length).toBeGreaterThan(2);
      expect(rows.filter((r) => r[key] !== null).length).toBeGreaterThan(2);
    }
  });

  it.each(CASES)('sort=%s&order=%s: every row exactly once, nulls last, pages of 3 across the boundary', async (sort, order) => {
    const listed = await allPages(`query/calculations?sort=${sort}&order=${order}&limit=3`, user.token);
    expect(listed.map((r) => r.id)).toEqual(expected(sort, order));
  });

  it('one page holds every row', async () => {
    const listed = await allPages('query/calculations?sort=energy&limit=1000', user.token);
    expect(listed.map((r) => r.id)).toEqual(expected('energy', 'asc'));
  });

  it('status=failed&sort=energy lists the failed calculations', async () => {
    const listed = await allPages('query/calculations?status=failed&sort=energy&limit=2', user.token);
    expect(listed).toHaveLength(7);
    expect(listed.map((r) => r.id)).toEqual(expected('energy', 'asc').filter((id) => rows.find((r) => r.id === id)!.status === 'failed'));
  });

  it.each([['energy', 'asc'], ['gap', 'desc']] as const)('export sort=%s&order=%s in parts of 4 gives every row once, in the listing order', async (sort, order) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let part = 0; part < 20; part++) {
      const params: string = cursor ? `cursor=${cursor}` : `sort=${sort}&order=${order}`;
      const res: Response = await fetch(`${inject('stack').url}/functions/v1/query/export?format=ndjson&limit=4&${params}`,
        { headers: { authorization: `Bearer ${user.token}` } });
      expect(res.status).toBe(200);
      ids.push(...(await res.text()).split('\n').filter(Boolean).map((line: string) => JSON.parse(line).id));
      cursor = res.headers.get('x-next-cursor');
      if (!cursor) break;
    }
    expect(ids).toEqual(expected(sort, order));
  });
});
