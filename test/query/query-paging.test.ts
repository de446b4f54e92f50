// Keyset paging over 2,500 rows while other requests keep inserting rows with values in the same
// range: every row that existed before paging is returned exactly once, no row twice, and the
// whole sequence is in (sort value, id) order, for every sort key and both directions.
import { beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { call } from '../support/http.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

const N = 2500;
let user: TestUser;
let original: Set<string>;

/** Deterministic values spread over a range, with repeats, so ties are broken by id. */
const value = (i: number, scale: number) => Math.round(((i * 7919) % 1000) / 10) * scale;

beforeAll(async () => {
  user = await newUser();
  const items = await Promise.all(Array.from({ length: N }, (_, i) =>
    calcOf('O', { seed: i, energy: -5 - value(i, 0.01), gap: 5 + value(i + 3, 0.1), dipole: value(i + 5, 0.02) })));
  const results = await clientFor(user.token).ingest(items);
  expect(results.filter((r) => r.outcome === 'created')).toHaveLength(N);
  original = new Set(results.map((r) => r.calculation_id!));
}, 180_000);

const KEY = { energy: 'total_energy_eh', gap: 'homo_lumo_gap_ev', dipole: 'dipole_debye', created_at: 'created_at' } as const;

describe('keyset paging under concurrent inserts', () => {
  it.each([
    ['energy', 'asc'], ['energy', 'desc'], ['gap', 'desc'], ['dipole', 'asc'], ['created_at', 'asc'], ['created_at', 'desc'],
  ] as const)('sort=%s&order=%s returns each row once, in order', async (sort, order) => {
    const client = clientFor(user.token);
    let stop = false;
    let inserted = 0;
    let seed = N + 10_000 * (Object.keys(KEY).indexOf(sort) * 2 + (order === 'asc' ? 0 : 1));
    const inserter = (async () => {
      while (!stop) {
        const batch = await Promise.all(Array.from({ length: 25 }, () => {
          const i = seed++;
          return calcOf('O', { seed: i, energy: -5 - value(i, 0.01), gap: 5 + value(i + 3, 0.1), dipole: value(i + 5, 0.02) });
        }));
        await client.ingest(batch);
        inserted += batch.length;
      }
    })();

    const rows: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    try {
      do {
        const limit = 50 + (pages % 3) * 50;
        const res = await call(`query/calculations?limit=${limit}${cursor ? `&cursor=${cursor}` : `&sort=${sort}&order=${order}`}`, { token: user.token });
        expect(res.status).toBe(200);
        rows.push(...res.body.data);
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor);
    } finally {
      stop = true;
      await inserter;
    }

    expect(inserted).toBeGreaterThan(0);
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => original.has(id))).toHaveLength(N);
    const key = KEY[sort];
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = order === 'asc' ? [rows[i - 1], rows[i]] : [rows[i], rows[i - 1]];
      const ordered = a[key] < b[key] || (a[key] === b[key] && a.id < b.id);
      if (!ordered) throw new Error(`rows ${i - 1} and ${i} are out of order: ${JSON.stringify([a[key], a.id, b[key], b.id])}`);
    }
    expect(pages).toBeGreaterThan(N / 100);
  }, 180_000);
});
