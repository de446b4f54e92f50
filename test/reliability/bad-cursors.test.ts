// Every bad cursor is a 400 invalid_parameter naming `cursor`, on every list route: garbage, JSON
// that is no cursor, a cursor of another listing, and real cursors with one field broken, above all
// the ones a pattern lets through but a database cast would refuse (month 13, February 30, hour 24,
// year 0, a bigint id above 2^63 - 1). Clients treat cursors as opaque strings; this test opens
// real ones (base64url JSON) only to break them. FUZZ_RUNS (default 100) sets the cases per route.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { batchItems } from '../support/payloads.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

type Payload = Record<string, unknown>;
const open = (cursor: string): Payload => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const seal = (value: unknown): string => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

// ---------------------------------------------------------------------------------------------
// Bad values, by the kind of field they break. Each is bad by construction.

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const isoOf = (y: number, mo: number, d: number, h: number, mi: number, s: number) =>
  `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(123456, 6)}Z`;
const leap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Text in the shape of a cursor's time that names no instant (or one PostgreSQL refuses: year 0). */
const impossibleTime: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.oneof(fc.constant(0), fc.integer({ min: 13, max: 99 })))
    .map(([y, mo]) => isoOf(y, mo, 1, 0, 0, 0)),
  fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.oneof(fc.constant(0), fc.integer({ min: 32, max: 99 })))
    .map(([y, mo, d]) => isoOf(y, mo, d, 0, 0, 0)),
  fc.integer({ min: 1, max: 9999 }).map((y) => isoOf(y, 2, leap(y) ? 30 : 29, 12, 0, 0)),
  fc.constantFrom(4, 6, 9, 11).map((mo) => isoOf(2026, mo, 31, 0, 0, 0)),
  fc.integer({ min: 24, max: 99 }).map((h) => isoOf(2026, 1, 1, h, 0, 0)),
  fc.integer({ min: 60, max: 99 }).map((mi) => isoOf(2026, 1, 1, 0, mi, 0)),
  fc.integer({ min: 60, max: 99 }).map((s) => isoOf(2026, 1, 1, 0, 0, s)),
  fc.constant(isoOf(0, 1, 1, 0, 0, 0)),
);

const malformedTime = fc.constantFrom(
  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123Z', '2026-01-01 00:00:00.123456+00', '2026-01-01T00:00:00.123456+01:00',
  '2026-01-01', 'yesterday', 'infinity', '-infinity', 'epoch', 'now', '', ' 2026-01-01T00:00:00.000000Z', '+12026-01-01T00:00:00.000000Z',
);

/** Digits that a 19-digit pattern lets through but bigint cannot hold, and other non-bigints. */
const badBigint: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: 2n ** 63n, max: 10n ** 19n - 1n }).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: 10n ** 19n, max: 10n ** 30n }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('-1', '1.5', '1e3', '', ' 1', '0x10', 'NaN', '١٢') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()) },
);

const badUuid: fc.Arbitrary<unknown> = fc.oneof(
  fc.uuid().map((u) => u.slice(0, -1) + 'g'),
  fc.uuid().map((u) => u.slice(1)),
  fc.uuid().map((u) => u.replaceAll('-', '') + '0'),
  fc.constantFrom('not-a-uuid', '', '{00000000-0000-4000-8000-000000000000', "'; drop table x; --"),
  fc.oneof(fc.integer(), fc.constant(null)),
);

const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
const notANumber = fc.oneof(fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.constant([1]), fc.constant({ v: 1 }));
const badEnum = fc.oneof(fc.constantFrom('sideways', 'ASC', 'Desc', '', 'total_energy_eh', "'; --"), notAString);

/** A bad value for a field of a real cursor, chosen by what the field holds. */
function badValueFor(key: string, value: unknown): fc.Arbitrary<unknown> {
  if (key === 'r') return fc.oneof(fc.constantFrom('x', '', 'Calculations', 'events ', 'molecule'), notAString);
  if (key === 's' || key === 'o') return badEnum;
  if (key === 'id' && typeof value === 'string' && /^\d+$/.test(value)) return badBigint;
  if (key === 'seq') return badBigint;
  if (key === 'id') return badUuid;
  // A number sort value may be null: the cursor then continues among the rows without a value.
  if (typeof value === 'number') return notANumber.filter((v) => typeof v !== 'number' && v !== null);
  // A time: impossible instants, malformed text, and numbers (the sort key says it is a time).
  return fc.oneof({ weight: 4, arbitrary: impossibleTime }, { weight: 2, arbitrary: malformedTime }, { weight: 1, arbitrary: fc.double() });
}

/** A real cursor with one field broken, removed, or an unknown field added. */
function brokenFrom(real: string): fc.Arbitrary<string> {
  const payload = open(real);
  const keys = Object.keys(payload);
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...keys).chain((k) => badValueFor(k, payload[k]).map((bad) => seal({ ...payload, [k]: bad }))) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((k) => seal(Object.fromEntries(Object.entries(payload).filter(([key]) => key !== k)))) },
    { weight: 1, arbitrary: fc.constantFrom('x', 'extra', 'R', '__proto__').map((k) => seal({ ...payload, [k]: 1 })) },
  );
}

const garbage: fc.Arbitrary<string> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.constantFrom('%%%', 'null', '=', '----', 'e30', "'; drop table public.molecules; --"),
  fc.jsonValue({ maxDepth: 3 }).map(seal),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => Buffer.from(s).toString('base64url')),
);

// ---------------------------------------------------------------------------------------------
// The routes, each with real cursors of its own (to break) and of the others (to send astray).

interface ListRoute {
  name: string;
  path: (cursor: string) => string;
  /** Real cursors of this route, taken from a first page of one row. */
  own: string[];
}

let user: TestUser;
let routes: ListRoute[];

async function nextCursor(path: string): Promise<string> {
  const res = await call(path, { token: user.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const cursor = res.headers.get('x-next-cursor') ?? res.body.next_cursor;
  expect(cursor, `${path} gave no next cursor`).toEqual(expect.any(String));
  return cursor;
}

beforeAll(async () => {
  user = await newUser();
  const ingest = await call('ingest', {
    token: user.token,
    body: { calculations: [calc({ smiles: 'O', seed: 1 }), calc({ smiles: 'CCO', seed: 2 }), calc({ smiles: 'C', seed: 3 })] },
  });
  expect(ingest.status, JSON.stringify(ingest.body)).toBe(200);
  for (const name of ['first', 'second']) {
    const created = await call('batches', { token: user.token, body: { name, items: batchItems(3) } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  const batches = await call('batches', { token: user.token });
  const batchId: string = batches.body.data[0].id;
  const q = (cursor: string) => encodeURIComponent(cursor);
  routes = [
    { name: 'GET query/calculations', path: (c) => `query/calculations?cursor=${q(c)}`, own: [
      await nextCursor('query/calculations?limit=1'), await nextCursor('query/calculations?limit=1&sort=energy&order=desc'),
    ] },
    { name: 'GET query/export', path: (c) => `query/export?format=ndjson&cursor=${q(c)}`, own: [
      await nextCursor('query/export?format=ndjson&limit=1'), await nextCursor('query/export?format=csv&limit=1&sort=gap'),
    ] },
    { name: 'GET query/molecules', path: (c) => `query/molecules?cursor=${q(c)}`, own: [await nextCursor('query/molecules?limit=1')] },
    { name: 'GET query/events', path: (c) => `query/events?cursor=${q(c)}`, own: [
      await nextCursor('query/events?limit=1'), await nextCursor('query/events?limit=1&order=asc'),
    ] },
    { name: 'GET batches', path: (c) => `batches?cursor=${q(c)}`, own: [await nextCursor('batches?limit=1')] },
    { name: 'GET batches/:id', path: (c) => `batches/${batchId}?cursor=${q(c)}`, own: [await nextCursor(`batches/${batchId}?limit=1`)] },
  ];
  // The real cursors work: what follows fails because of what was broken, not because of the route.
  for (const route of routes) {
    for (const cursor of route.own) {
      const res = await call(route.path(cursor), { token: user.token });
      expect(res.status, `${route.name}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  }
}, 120_000);

/** Cursors of other listings; the calculations cursor also serves /export, so it is not foreign there. */
function foreign(route: ListRoute): string[] {
  const shared = new Set(['GET query/calculations', 'GET query/export']);
  return routes
    .filter((r) => r !== route && !(shared.has(r.name) && shared.has(route.name)))
    .flatMap((r) => r.own);
}

describe('every bad cursor is a 400 naming cursor', () => {
  const names = ['GET query/calculations', 'GET query/export', 'GET query/molecules', 'GET query/events', 'GET batches', 'GET batches/:id'];
  it.each(names)('%s', async (name) => {
    const route = routes.find((r) => r.name === name)!;
    const bad = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...route.own).chain(brokenFrom) },
      { weight: 2, arbitrary: garbage },
      { weight: 1, arbitrary: fc.constantFrom(...foreign(route)) },
    );
    await fc.assert(fc.asyncProperty(bad, async (cursor) => {
      const res = await call(route.path(cursor), { token: user.token });
      const context = `${name} cursor=${JSON.stringify(cursor)} (${JSON.stringify(safeOpen(cursor))}): ${res.status} ${JSON.stringify(res.body)}`;
      expect(res.status, context).toBe(400);
      expect(res.body.error.code, context).toBe('invalid_parameter');
      expect(res.body.error.details.map((d: { path: string }) => d.path), context).toContain('cursor');
    }), { numRuns: RUNS, seed: SEED });
  }, 60_000 + RUNS * 500);
});

describe('the decoding is no stricter than the database', () => {
  it('accepts the extreme values a cursor may carry: first and last instants, a leap day, the largest bigint, tiny and huge numbers', async () => {
    const times = ['0001-01-01T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z', '2024-02-29T12:00:00.000000Z', '2000-02-29T00:00:00.000000Z'];
    const bigints = ['0', '9223372036854775807'];
    const numbers = [5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 0];
    const cases: string[] = [];
    for (const route of routes) {
      for (const real of route.own) {
        const p = open(real);
        for (const [key, value] of Object.entries(p)) {
          const extremes = key === 'r' || key === 's' || key === 'o' ? []
            : key === 'seq' || (key === 'id' && typeof value === 'string' && /^\d+$/.test(value)) ? bigints
              : key === 'id' ? []
                : typeof value === 'number' ? numbers : times;
          for (const extreme of extremes) cases.push(route.path(seal({ ...p, [key]: extreme })));
        }
      }
    }
    expect(cases.length).toBeGreaterThan(20);
    for (const path of cases) {
      const res = await call(path, { token: user.token });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  }, 120_000);
});

function safeOpen(cursor: string): unknown {
  try {
    return open(cursor);
  } catch {
    return null;
  }
}
