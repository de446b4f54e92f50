// Isolation: another user's ids are 404, exactly like ids that do not exist, and their rows never
// appear in lists, stats, events or exports. The service-role key reads as the user it names.
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { allPages } from './query-helpers.ts';

let alice: TestUser;
let bob: TestUser;
const ids: Record<string, { calcs: string[]; molecules: string[] }> = {};

beforeAll(async () => {
  [alice, bob] = await Promise.all([newUser(), newUser()]);
  for (const [user, smiles] of [[alice, ['CCO', 'O', 'C']], [bob, ['CCO', 'ClCCl']]] as const) {
    const items = await Promise.all(smiles.flatMap((s, k) => [0, 1].map((j) => calcOf(s, { seed: k * 10 + j, withGradient: true }))));
    const results = await clientFor(user.token).ingest(items);
    ids[user.id] = {
      calcs: results.map((r) => r.calculation_id!),
      molecules: [...new Set(results.map((r) => r.molecule_id!))],
    };
  }
});

describe('isolation between users', () => {
  it('answers 404 for the other user\'s ids and for ids that do not exist', async () => {
    for (const id of ids[alice.id].calcs) {
      expect((await call(`query/calculations/${id}`, { token: bob.token })).status).toBe(404);
      expect((await call(`query/calculations/${id}`, { token: alice.token })).status).toBe(200);
    }
    for (const id of ids[alice.id].molecules) {
      const res = await call(`query/molecules/${id}`, { token: bob.token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await call(`query/calculations/${unknown}`, { token: alice.token })).status).toBe(404);
    expect((await call(`query/molecules/${unknown}`, { token: alice.token })).status).toBe(404);
  });

  it('never lists the other user\'s rows, even when filtering by their ids', async () => {
    const bobCalcs = await allPages('query/calculations?limit=3', bob.token);
    expect(bobCalcs.map((r) => r.id).sort()).toEqual([...ids[bob.id].calcs].sort());
    const bobMolecules = await allPages('query/molecules', bob.token);
    expect(bobMolecules.map((m) => m.id).sort()).toEqual([...ids[bob.id].molecules].sort());
    for (const id of ids[alice.id].molecules) {
      expect(await allPages(`query/calculations?molecule_id=${id}`, bob.token)).toEqual([]);
    }
    // The same molecule (ethanol) is a different row per user.
    const ethanol = await allPages('query/molecules?smiles=OCC', bob.token);
    expect(ethanol).toHaveLength(1);
    expect(ids[alice.id].molecules).not.toContain(ethanol[0].id);
  });

  it('counts only the caller\'s rows in stats and lists only their events', async () => {
    const res = await call('query/stats', { token: bob.token });
    expect(res.status).toBe(200);
    expect(res.body.stats).toMatchObject({ molecules: 2, calculations_total: 4, calculations_completed: 4 });
    expect(res.body.histograms.energy_per_atom_eh.count).toBe(4);
    expect(res.body.histograms.homo_lumo_gap_ev.counts.reduce((a: number, b: number) => a + b, 0)).toBe(4);
    const events = await allPages('query/events?limit=5', bob.token);
    const mine = new Set([...ids[bob.id].calcs, ...ids[bob.id].molecules]);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) if (e.entity_id) expect(mine.has(e.entity_id)).toBe(true);
    const [{ n }] = await adminSql()`select count(*)::int as n from public.event_logs where user_id = ${bob.id}`;
    expect(events).toHaveLength(n);
  });

  it('exports only the caller\'s rows in every format', async () => {
    const { url } = inject('stack');
    for (const format of ['extxyz', 'ndjson', 'csv']) {
      const res = await fetch(`${url}/functions/v1/query/export?format=${format}`, { headers: { authorization: `Bearer ${bob.token}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const id of ids[bob.id].calcs) expect(text).toContain(id);
      for (const id of ids[alice.id].calcs) expect(text).not.toContain(id);
    }
  });

  it('lets the service-role key read as the user it names, and only then', async () => {
    const { serviceRoleKey } = inject('stack');
    const rows = await allPages(`query/calculations?user_id=${bob.id}`, serviceRoleKey);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids[bob.id].calcs].sort());
    expect((await call(`query/calculations/${ids[alice.id].calcs[0]}?user_id=${bob.id}`, { token: serviceRoleKey })).status).toBe(404);
    const missing = await call('query/calculations', { token: serviceRoleKey });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].path).toBe('user_id');
    expect((await call(`query/calculations?user_id=${alice.id}`, { token: bob.token })).status).toBe(403);
    expect((await call(`query/calculations?user_id=${bob.id}`, { token: bob.token })).status).toBe(200);
    expect((await call('query/calculations')).status).toBe(401); // the anon key
    expect((await call('query/calculations', { token: null })).status).toBe(401);
  });
});
