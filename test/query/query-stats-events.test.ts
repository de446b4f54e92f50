// /stats (database_stats and the trigger-kept histograms) and /events (filters, time range, keyset pages),
// each checked against SQL run directly on the same rows.
import { beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { allPages } from './query-helpers.ts';

let user: TestUser;
let boundary: string;

beforeAll(async () => {
  user = await newUser();
  const client = clientFor(user.token);
  const first = await Promise.all([
    ...Array.from({ length: 12 }, (_, i) => calcOf('CCO', { seed: i, energy: -11.4 - i * 0.013, gap: 3 + i * 0.41 })),
    ...Array.from({ length: 8 }, (_, i) => calcOf('O', { seed: i, energy: -5.07 - i * 0.002, gap: 12 + i * 0.2, method: i % 2 ? 'GFN1-xTB' : 'GFN2-xTB' })),
    calcOf('C', { seed: 1, method: 'GFN-FF', energy: -0.8, gap: null, dipole: null }),
    calcOf('C', { seed: 2, status: 'failed' }),
  ]);
  await client.ingest(first);
  [{ boundary }] = await adminSql()`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as boundary`;
  await client.ingest([await calcOf('C', { seed: 3, status: 'running' }), await calcOf('ClCCl', { seed: 1, energy: -9.5, gap: 6 })]);
});

describe('GET /query/stats', () => {
  it('returns the caller\'s counters and histograms that match SQL', async () => {
    const res = await call('query/stats?bins=4', { token: user.token });
    expect(res.status).toBe(200);
    const [view] = await adminSql()`select * from public.database_stats where user_id = ${user.id}`;
    const { user_id: _, ...counters } = view;
    expect(res.body.stats).toEqual(Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)])));
    expect(res.body.stats).toMatchObject({ molecules: 4, calculations_total: 24, calculations_completed: 22, calculations_failed: 1, calculations_running: 1 });

    // Recounted here from the raw values: each value's cell of the grid (histogram_cell_width),
    // each bin whole cells from edges[0], the occupied cells widened evenly to fill the bins.
    const sql = adminSql();
    const cells = await sql`
      select floor(c.total_energy_eh / m.n_atoms / public.histogram_cell_width('energy_per_atom_eh'))::int as e,
             floor(c.homo_lumo_gap_ev / public.histogram_cell_width('homo_lumo_gap_ev'))::int as g,
             public.histogram_cell_width('energy_per_atom_eh') as we, public.histogram_cell_width('homo_lumo_gap_ev') as wg
        from public.calculations c join public.molecules m on m.id = c.molecule_id where c.user_id = ${user.id}`;
    for (const [name, key, widthKey] of [['energy_per_atom_eh', 'e', 'we'], ['homo_lumo_gap_ev', 'g', 'wg']] as const) {
      const h = res.body.histograms[name];
      const width: number = cells[0][widthKey];
      const v = cells.map((r) => r[key]).filter((x): x is number => x !== null);
      const lo = Math.min(...v);
      const hi = Math.max(...v);
      const k = Math.ceil((hi - lo + 1) / 4);
      const first = lo - Math.floor((k * 4 - (hi - lo + 1)) / 2);
      expect(h).toMatchObject({ bins: 4, count: v.length });
      expect(h.min).toBeCloseTo(lo * width, 12);
      expect(h.max).toBeCloseTo((hi + 1) * width, 12);
      expect(h.edges).toHaveLength(5);
      h.edges.forEach((edge: number, i: number) => expect(edge).toBeCloseTo((first + i * k) * width, 12));
      const counts = [0, 0, 0, 0];
      for (const cell of v) counts[Math.floor((cell - first) / k)] += 1;
      expect(h.counts).toEqual(counts);
    }
  });

  it('answers zeros and empty histograms for a user without data, and one bin for one value', async () => {
    const empty = await newUser();
    const res = await call('query/stats', { token: empty.token });
    expect(res.status).toBe(200);
    expect(res.body.stats.calculations_total).toBe(0);
    expect(res.body.histograms.homo_lumo_gap_ev).toMatchObject({ bins: 20, count: 0, min: null, max: null, edges: [] });
    expect(res.body.histograms.homo_lumo_gap_ev.counts).toEqual(Array(20).fill(0));

    await clientFor(empty.token).ingest([await calcOf('O', { energy: -5, gap: 7 })]);
    const one = await call('query/stats?bins=3', { token: empty.token });
    // One value: its cell (0.01 eV wide) in the middle bin, one cell per bin.
    const gap = one.body.histograms.homo_lumo_gap_ev;
    expect(gap).toMatchObject({ count: 1, counts: [0, 1, 0] });
    expect(gap.max - gap.min).toBeCloseTo(0.01, 12);
    expect(gap.min).toBeLessThanOrEqual(7);
    expect(gap.max).toBeGreaterThan(7);
    expect(gap.edges[1]).toBeCloseTo(gap.min, 12);
  });
});

describe('GET /query/events', () => {
  const expected = async (where: string, params: unknown[] = [], order: 'asc' | 'desc' = 'desc') => {
    const rows = await adminSql().unsafe(
      `select id::int from public.event_logs where user_id = $1 and ${where} order by created_at ${order}, id ${order}`,
      [user.id, ...params] as never[]);
    return rows.map((r) => r.id);
  };

  it('filters by type, entity and time, newest first by default, in pages', async () => {
    const ids = async (params: string) => (await allPages(`query/events?limit=3&${params}`, user.token)).map((e) => e.id);
    expect(await ids('')).toEqual(await expected('true'));
    expect(await ids('order=asc')).toEqual(await expected('true', [], 'asc'));
    expect(await ids('event_type=calculation_completed')).toEqual(await expected(`event_type = 'calculation_completed'`));
    expect(await ids('event_type=calculation_failed')).toHaveLength(1);
    expect(await ids('entity_type=molecule')).toEqual(await expected(`entity_type = 'molecule'`));
    expect(await ids(`created_after=${boundary}`)).toEqual(await expected(`created_at >= $2::text::timestamptz`, [boundary]));
    expect(await ids(`created_before=${boundary}&event_type=molecule_created`))
      .toEqual(await expected(`created_at < $2::text::timestamptz and event_type = 'molecule_created'`, [boundary]));
    const [calc] = await adminSql()`select id from public.calculations where user_id = ${user.id} and status = 'running'`;
    const forCalc = await allPages(`query/events?entity_id=${calc.id}`, user.token);
    expect(forCalc.map((e) => e.event_type)).toEqual(['calculation_started']);
    expect(forCalc[0]).toMatchObject({ entity_type: 'calculation', entity_id: calc.id, payload: { status: 'running' } });
    expect(forCalc[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});
