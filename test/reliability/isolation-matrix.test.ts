// Tenant isolation and auth, as a matrix: every route of every function × every kind of caller, each
// cell with its expected status. User B never sees A's ids in a response and never changes A's rows
// (userCounts(A) and A's fixture rows before/after). Then direct SQL with B's claims against every
// table and view, as `authenticated` (PostgREST's role: denied everything) and as the functions'
// role (row-level security): zero of A's rows.
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mintToken, newJwtSecret } from '../../scripts/stack/keys.ts';
import { TABLES, userCounts } from '../support/counts.ts';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calc, resultFor } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { fixture, type Fixture } from './helpers.ts';

export const PRINCIPALS = ['none', 'expired', 'otherKey', 'algNone', 'badSub', 'anon', 'A', 'B', 'svc', 'svcA'] as const;
type Principal = (typeof PRINCIPALS)[number];


interface Route {
  name: string;
  method: string;
  /** Path after /functions/v1/, built from A's fixture. */
  path: (f: Fixture) => string;
  body?: (f: Fixture) => Record<string, unknown>;
  /** Owner's success status. */
  ok: number;
  /** B's status (another user's resource, or B's own empty collection). */
  other: number;
  /** service_role without user_id. */
  svc: number;
  /** True when the route changes A's rows, so owner cells need a fresh fixture. */
  mutates?: boolean;
  /** anon's status when it is not the usual 401 (health accepts any valid token). */
  anon?: number;
  /** Run on an owner's fresh fixture before the cell (e.g. cancel a batch before deleting it). */
  prepare?: (f: Fixture) => Promise<void>;
  /** Run once before the route's cells. */
  setup?: () => Promise<void>;
}

let seq = 1;
const nextSeed = () => 100_000 + seq++;

let A: TestUser;
let B: TestUser;
const tokens = {} as Record<Principal, string | null>;


const runner = (f: Fixture) => `runner-${f.held.user_id}`;

export const ROUTES: Route[] = [
  { name: 'GET health', method: 'GET', path: () => 'health', ok: 200, other: 200, svc: 200, anon: 200 },
  { name: 'POST ingest', method: 'POST', path: () => 'ingest', body: () => ({ calculations: [calc({ seed: nextSeed() })] }), ok: 200, other: 200, svc: 422, mutates: true },
  { name: 'PATCH ingest/molecules/:id', method: 'PATCH', path: (f) => `ingest/molecules/${f.moleculeId}`, body: () => ({ tags: ['patched'] }), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'DELETE ingest/molecules/:id', method: 'DELETE', path: (f) => `ingest/molecules/${f.moleculeId}`, ok: 200, other: 404, svc: 400, mutates: true },
  { name: 'PATCH ingest/calculations/:id', method: 'PATCH', path: (f) => `ingest/calculations/${f.calculationId}`, body: () => ({ tags: ['patched'] }), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'DELETE ingest/calculations/:id', method: 'DELETE', path: (f) => `ingest/calculations/${f.calculationId}`, ok: 200, other: 404, svc: 400, mutates: true },
  // B deletes everything it can see for real: only its own rows may go.
  { name: 'POST ingest/delete', method: 'POST', path: () => 'ingest/delete', body: () => ({ confirm: 'all', dry_run: false }), ok: 200, other: 200, svc: 422, mutates: true },
  { name: 'POST batches', method: 'POST', path: () => 'batches', body: () => ({ name: 'm', items: [{ smiles: 'O' }] }), ok: 201, other: 201, svc: 422, mutates: true },
  { name: 'GET batches', method: 'GET', path: () => 'batches', ok: 200, other: 200, svc: 400 },
  { name: 'GET batches/:id', method: 'GET', path: (f) => `batches/${f.batchId}`, ok: 200, other: 404, svc: 400 },
  { name: 'DELETE batches/:id', method: 'DELETE', path: (f) => `batches/${f.batchId}`, ok: 200, other: 404, svc: 400, mutates: true,
    prepare: async (f) => {
      const res = await call(`batches/${f.batchId}/cancel`, { token: A.token, body: {} });
      expect(res.status).toBe(200);
    } },
  { name: 'POST batches/:id/items', method: 'POST', path: (f) => `batches/${f.batchId}/items`, body: () => ({ items: [{ smiles: 'O' }] }), ok: 201, other: 404, svc: 422, mutates: true },
  { name: 'POST batches/:id/cancel', method: 'POST', path: (f) => `batches/${f.batchId}/cancel`, body: () => ({}), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'POST batches/:id/retry', method: 'POST', path: (f) => `batches/${f.batchId}/retry`, body: () => ({}), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'POST batches/claim', method: 'POST', path: () => 'batches/claim', body: (f) => ({ runner_id: runner(f), batch_id: f.batchId }), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'POST batches/heartbeat', method: 'POST', path: () => 'batches/heartbeat', body: (f) => ({ runner_id: runner(f), item_ids: [f.held.item_id] }), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'POST batches/complete', method: 'POST', path: () => 'batches/complete', body: (f) => ({ runner_id: runner(f), item_id: f.held.item_id, result: resultFor(f.held) }), ok: 200, other: 404, svc: 422, mutates: true },
  // complete-many answers per item: B gets 200 with outcome not_found (checked below).
  { name: 'POST batches/complete-many', method: 'POST', path: () => 'batches/complete-many', body: (f) => ({ runner_id: runner(f), items: [{ item_id: f.held.item_id, result: resultFor(f.held) }] }), ok: 200, other: 200, svc: 422, mutates: true },
  { name: 'POST batches/fail', method: 'POST', path: () => 'batches/fail', body: (f) => ({ runner_id: runner(f), item_id: f.held.item_id, error_class: 'crash', message: 'matrix' }), ok: 200, other: 404, svc: 422, mutates: true },
  { name: 'GET query/molecules', method: 'GET', path: () => 'query/molecules', ok: 200, other: 200, svc: 400 },
  { name: 'GET query/molecules/:id', method: 'GET', path: (f) => `query/molecules/${f.moleculeId}`, ok: 200, other: 404, svc: 400 },
  { name: 'GET query/calculations', method: 'GET', path: () => 'query/calculations', ok: 200, other: 200, svc: 400 },
  { name: 'GET query/calculations/:id', method: 'GET', path: (f) => `query/calculations/${f.calculationId}`, ok: 200, other: 404, svc: 400 },
  { name: 'GET query/calculations/:id/xtb.out', method: 'GET', path: (f) => `query/calculations/${f.calculationId}/xtb.out`, ok: 200, other: 404, svc: 400 },
  { name: 'GET query/stats', method: 'GET', path: () => 'query/stats', ok: 200, other: 200, svc: 400 },
  { name: 'GET query/events', method: 'GET', path: () => 'query/events', ok: 200, other: 200, svc: 400 },
  { name: 'GET query/export', method: 'GET', path: () => 'query/export?format=ndjson', ok: 200, other: 200, svc: 400 },
  // Last: A's release holds A's calculations from here on, so the delete routes above ran before it.
  { name: 'POST datasets', method: 'POST', path: () => 'datasets', body: () => ({ name: `matrix-${nextSeed()}` }), ok: 201, other: 201, svc: 422, mutates: true },
  { name: 'GET datasets', method: 'GET', path: () => 'datasets', ok: 200, other: 200, svc: 400, setup: aRelease },
  { name: 'POST datasets/:id/releases', method: 'POST', path: () => `datasets/${aDatasetId}/releases`,
    body: (f) => ({ license: 'MIT', authors: ['A'], calculation_ids: [f.calculationId] }), ok: 201, other: 404, svc: 422, mutates: true, setup: aRelease },
  // A sealed release: its owner gets it back (200), nothing is hashed or changed.
  { name: 'POST datasets/:id/releases/:version/seal', method: 'POST', path: () => `datasets/${aDatasetId}/releases/1/seal`, body: () => ({}),
    ok: 200, other: 404, svc: 422, setup: aRelease },
  { name: 'GET datasets/:id/releases/:version', method: 'GET', path: () => `datasets/${aDatasetId}/releases/1`, ok: 200, other: 404, svc: 400, setup: aRelease },
  { name: 'GET datasets/:id/releases/:version/export', method: 'GET', path: () => `datasets/${aDatasetId}/releases/1/export?format=ndjson`,
    ok: 200, other: 404, svc: 400, setup: aRelease },
];

let aDatasetId: string | undefined;
/** A's dataset with release 1 of A's calculations, made once. */
async function aRelease(): Promise<void> {
  if (aDatasetId) return;
  const d = await call('datasets', { token: A.token, body: { name: 'matrix' } });
  expect(d.status, JSON.stringify(d.body)).toBe(201);
  const r = await call(`datasets/${d.body.id}/releases`, { token: A.token, body: { license: 'MIT', authors: ['A'], filters: {} } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  aDatasetId = d.body.id;
}

function expected(route: Route, who: Principal): number {
  switch (who) {
    case 'none': case 'expired': case 'otherKey': case 'algNone': case 'badSub': return 401;
    case 'anon': return route.anon ?? 401;
    case 'A': case 'svcA': return route.ok;
    case 'B': return route.other;
    case 'svc': return route.svc;
  }
}

/** The request for one cell: svcA names A in the body (writes) or the query string (reads, deletes). */
function request(route: Route, who: Principal, f: Fixture) {
  let path = route.path(f);
  let body = route.body?.(f);
  if (who === 'svcA' && route.name !== 'GET health') {
    if (body) body = { ...body, user_id: A.id };
    else path += `${path.includes('?') ? '&' : '?'}user_id=${A.id}`;
  }
  if (!body && route.method !== 'GET' && route.method !== 'DELETE') body = {};
  return { path, body, method: route.method, token: tokens[who] };
}

async function aRows(f: Fixture) {
  const sql = adminSql();
  return {
    molecule: await sql`select name, tags, metadata from public.molecules where id = ${f.moleculeId}`,
    calculation: await sql`select tags, metadata from public.calculations where id = ${f.calculationId}`,
    batch: await sql`select status, total_items, pending_items, claimed_items from public.batch_jobs where id = ${f.batchId}`,
    items: await sql`select id, status, attempts, claimed_by, calculation_id from public.batch_items where batch_job_id = ${f.batchId} order by seq`,
  };
}

beforeAll(async () => {
  const { jwtSecret, anonKey, serviceRoleKey } = inject('stack');
  A = await newUser();
  B = await newUser();
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  Object.assign(tokens, {
    none: null,
    expired: await mintToken({ secret: jwtSecret, role: 'authenticated', sub: A.id, ttlSeconds: -120 }),
    otherKey: await mintToken({ secret: newJwtSecret(), role: 'authenticated', sub: A.id }),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'authenticated', sub: A.id, aud: 'authenticated', exp: now + 3600, iat: now })}.`,
    badSub: await new SignJWT({ role: 'authenticated', aud: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('not-a-uuid').setIssuedAt(now).setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(jwtSecret)),
    anon: anonKey,
    A: A.token,
    B: B.token,
    svc: serviceRoleKey,
    svcA: serviceRoleKey,
  });
  // B has data of its own, so "sees none of A's" is not trivially true of an empty account.
  await fixture(B);
});

describe('isolation matrix: every route × every caller', () => {
  it.each(ROUTES.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    await route.setup?.();
    const shared = await fixture(A);
    const aIds = [A.id, shared.moleculeId, shared.calculationId, shared.batchId, shared.held.item_id, ...(aDatasetId ? [aDatasetId] : [])];
    const mismatches: string[] = [];
    for (const who of PRINCIPALS) {
      const owner = who === 'A' || who === 'svcA';
      const f = owner && route.mutates ? await fixture(A) : shared;
      const countsBefore = owner ? undefined : await userCounts(A.id);
      const rowsBefore = owner ? undefined : await aRows(shared);
      if (owner && route.mutates && route.prepare) await route.prepare(f);
      const req = request(route, who, f);
      const res = await call(req.path, req);
      const want = expected(route, who);
      if (res.status !== want) mismatches.push(`${who}: expected ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      if (res.status >= 400) {
        if (!(res.body?.error?.code && typeof res.body.error.message === 'string' && res.body.error.message.length > 0)) {
          mismatches.push(`${who}: ${res.status} without the JSON error shape: ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      }
      if (!owner) {
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        // An id B itself sent may be echoed back (e.g. complete-many's per-item results); any other is a leak.
        const sent = `${req.path} ${JSON.stringify(req.body ?? '')}`;
        for (const id of aIds) if (text.includes(id) && !sent.includes(id)) mismatches.push(`${who}: response shows A's id ${id}`);
        expect(await userCounts(A.id), `${route.name} as ${who} changed A's counts`).toEqual(countsBefore);
        expect(await aRows(shared), `${route.name} as ${who} changed A's rows`).toEqual(rowsBefore);
      }
      if (who === 'B' && route.name === 'POST batches/complete-many' && res.status === 200) {
        expect(res.body.results[0].outcome).toBe('not_found');
      }
    }
    expect(mismatches).toEqual([]);
  });
});

// As `authenticated`, what PostgREST would do with B's token: it may read and write nothing at
// all. As the functions' role (API_ROLE), what every route does for B: row-level security.
describe.each([['authenticated'], [API_ROLE]] as const)('direct SQL as %s with B\'s claims', (role) => {
  const RELATIONS = [...TABLES, 'datasets', 'releases', 'release_members', 'user_stats_slots', 'user_stats', 'database_stats', 'batch_progress'] as const;

  it.each(RELATIONS.map((r) => [r]))('%s holds none of A\'s rows for B', async (relation) => {
    await fixture(A);
    const sql = adminSql();
    const cols = await sql<{ column_name: string }[]>`
      select column_name from information_schema.columns where table_schema = 'public' and table_name = ${relation}`;
    const names = cols.map((c) => c.column_name);
    const ownerCol = names.includes('user_id') ? 'user_id' : undefined;
    // As the owner (no RLS), A's rows exist in every relation that is per user.
    if (ownerCol) {
      const [{ n }] = await sql`select count(*)::int as n from ${sql('public')}.${sql(relation)} where ${sql(ownerCol)} = ${A.id}`;
      if (relation !== 'database_stats') expect(n, `A has rows in ${relation}`).toBeGreaterThan(0);
    }
    const seen: { rows: Record<string, unknown>[] } | { denied: string | undefined } = await asRole(role, B.id,
      async (tx) => ({ rows: [...await tx<Record<string, unknown>[]>`select * from ${tx('public')}.${tx(relation)}`] }))
      .catch((err) => ({ denied: (err as { code?: string }).code }));
    if ('denied' in seen) {
      // Not readable at all is also isolation (42501 insufficient_privilege); the functions' role
      // reads every relation.
      expect(seen.denied).toBe('42501');
      expect(role).toBe('authenticated');
      return;
    }
    const text = JSON.stringify(seen.rows);
    if (ownerCol) expect(seen.rows.filter((r) => r[ownerCol] === A.id)).toEqual([]);
    expect(text.includes(A.id), `${relation} shows A's user id to B`).toBe(false);
    // Writes as B touch none of A's rows either.
    if ((TABLES as readonly string[]).includes(relation) && relation !== 'event_logs') {
      const before = await userCounts(A.id);
      const attempt = (work: (tx: Parameters<Parameters<typeof asRole>[2]>[0]) => PromiseLike<{ length: number }>) =>
        asRole(role, B.id, async (tx) => await work(tx)).then((rows) => rows.length, (err) => (err as { code?: string }).code);
      const upd = await attempt((tx) => tx`update ${tx('public')}.${tx(relation)} set user_id = user_id where user_id = ${A.id} returning 1`);
      const del = await attempt((tx) => tx`delete from ${tx('public')}.${tx(relation)} where user_id = ${A.id} returning 1`);
      // Either nothing of A's is visible to change (0 rows), or the role may not write there at all.
      expect([0, '42501']).toContain(upd);
      expect([0, '42501']).toContain(del);
      expect(await userCounts(A.id)).toEqual(before);
    }
  });

  it('B cannot insert rows owned by A', async () => {
    const before = await userCounts(A.id);
    const outcome = await asRole(role, B.id, async (tx) => {
      await tx`insert into public.batch_jobs (user_id, name) values (${A.id}, 'forged')`;
      return 'inserted';
    }).catch((err) => (err as { code?: string }).code);
    // 42501: refused by the row-level security policy's with check (or no insert privilege).
    expect(outcome).toBe('42501');
    expect(await userCounts(A.id)).toEqual(before);
  });
});

