// Hostile input, by property: every route of every function gets random JSON, valid bodies with one
// field replaced by something hostile (wrong types, huge and tiny numbers, NaN/Infinity as strings
// and as numbers, deep nesting, long strings, Unicode edge cases, NUL bytes, SQL meta-characters),
// raw bodies under wrong content types, empty bodies, hostile query parameters and bogus cursors,
// and hostile path ids. The properties: no 5xx; every 4xx has the JSON error shape with a message
// (and details naming the field for validation errors); a rejected request changes none of the
// user's rows or events; Deno's memory does not keep growing.
// FUZZ_RUNS (default 100) sets the cases per route; `npm run test:fuzz` runs 2,000.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GetBatchQuery, ListBatchesQuery, DeleteBatchQuery,
} from '../../shared/contract/batches.ts';
import {
  ExportQuery, GetByIdQuery, ListCalculationsQuery, ListEventsQuery, ListMoleculesQuery, StatsQuery,
} from '../../shared/contract/query.ts';
import { userCounts } from '../support/counts.ts';
import { calc, calcWithAtoms, GEOMETRIES, resultFor } from '../support/payloads.ts';
import { BOHR_ANGSTROM } from '../../shared/units.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { fixture, functionsPidFor, rssKb, type Fixture } from './helpers.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
// Per route: the requests themselves plus a count query each, with headroom for long strings.
const ROUTE_TIMEOUT_MS = 60_000 + RUNS * 250;

// ---------------------------------------------------------------------------------------------
// Hostile values

const SQL_META = [
  "'", "''", '"', ';', '--', '/*', '*/', '\\', '%', '_', '$1', '$$', '::text', '(', ')',
  "' OR '1'='1", "1' OR 1=1 --", "'; drop table public.molecules; --", "x'); delete from public.calculations; --",
  "\\'; select pg_sleep(5); --", "E'\\x00'", '%27%20OR%201=1', "' union select * from auth.users --",
];
const UNICODE = [
  '\u0000', 'a\u0000b', '\uFFFF', '\uFFFE', '\uD800', '\uDC00', 'x\uD83D', '\u202E', '\u200B', '\uFEFF', '\u0085',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '👩‍👩‍👧‍👦', 'e\u0301', 'İ', 'ß', '\u2028\u2029', '\t\r\n', 'Ω≈ç√∫',
];
const NUMBERISH = [
  'NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e-400', '-0', '0x10', '1_000', ' 1 ', '1e', '.', '+1',
  '9223372036854775808', '-9223372036854775809', '2147483648', '1.7976931348623157e309',
];
const IDISH = [
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'not-a-uuid', '..', '../..', '%00', '*',
  'null', 'undefined', 'true', '[]', '{}', '',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SQL_META, ...UNICODE, ...NUMBERISH, ...IDISH) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...SQL_META, ...UNICODE), fc.string({ maxLength: 8 })).map(([a, b]) => `${b}${a}${b}`) },
  // Long strings: up to 200 KB here; megabytes in their own tests below.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '\u0000', "'", '𝔘'), fc.integer({ min: 1000, max: 200_000 })).map(([c, n]) => c.repeat(n)) },
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 5e-324, -5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 63, 0, -0, 1.5, -1, 1e-30),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...SQL_META, '__proto__', 'constructor', '')), tie('value'), { maxKeys: 5 }),
  ),
})).value;

// ---------------------------------------------------------------------------------------------
// Routes

interface FuzzRoute {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: (f: Fixture) => string;
  /** A valid body, the template that mutations start from. */
  body?: (f: Fixture) => Record<string, unknown>;
  /** Known query keys (from the contract), for query fuzzing. */
  queryKeys?: string[];
  /** True when the path has an :id to replace. */
  idInPath?: boolean;
}

const keys = (schema: { shape: object }) => Object.keys(schema.shape);

const ROUTES: FuzzRoute[] = [
  { name: 'GET health', method: 'GET', path: () => 'health', queryKeys: [] },
  { name: 'POST ingest', method: 'POST', path: () => 'ingest', body: () => ({ calculations: [calc({ seed: 7, withGradient: true })] }) },
  { name: 'PATCH ingest/molecules/:id', method: 'PATCH', path: (f) => `ingest/molecules/${f.moleculeId}`, idInPath: true, body: () => ({ name: 'n', tags: ['t'], metadata: { k: 1 } }) },
  { name: 'DELETE ingest/molecules/:id', method: 'DELETE', path: (f) => `ingest/molecules/${f.moleculeId}`, idInPath: true, queryKeys: ['user_id', 'force'] },
  { name: 'PATCH ingest/calculations/:id', method: 'PATCH', path: (f) => `ingest/calculations/${f.calculationId}`, idInPath: true, body: () => ({ tags: ['t'], metadata: { k: 1 } }) },
  { name: 'DELETE ingest/calculations/:id', method: 'DELETE', path: (f) => `ingest/calculations/${f.calculationId}`, idInPath: true, queryKeys: ['user_id', 'force'] },
  // dry_run stays true in the template: a mutation that keeps it valid only reports.
  { name: 'POST ingest/delete', method: 'POST', path: () => 'ingest/delete', body: () => ({ filters: { method: 'GFN2-xTB', min_energy: '-10' }, source: 'x', dry_run: true }) },
  { name: 'POST batches', method: 'POST', path: () => 'batches', body: () => ({ name: 'fuzz', priority: 1, tags: ['a'], metadata: { m: 1 }, xtb_args: ['--acc', '1'], items: [{ smiles: 'O', charge: 0, multiplicity: 1 }] }) },
  { name: 'GET batches', method: 'GET', path: () => 'batches', queryKeys: keys(ListBatchesQuery) },
  { name: 'GET batches/:id', method: 'GET', path: (f) => `batches/${f.batchId}`, idInPath: true, queryKeys: keys(GetBatchQuery) },
  { name: 'DELETE batches/:id', method: 'DELETE', path: (f) => `batches/${f.batchId}`, idInPath: true, queryKeys: keys(DeleteBatchQuery) },
  { name: 'POST batches/:id/items', method: 'POST', path: (f) => `batches/${f.batchId}/items`, idInPath: true, body: () => ({ items: [{ smiles: 'CC', name: 'x' }] }) },
  { name: 'POST batches/:id/cancel', method: 'POST', path: (f) => `batches/${f.batchId}/cancel`, idInPath: true, body: () => ({}) },
  { name: 'POST batches/:id/retry', method: 'POST', path: (f) => `batches/${f.batchId}/retry`, idInPath: true, body: () => ({}) },
  { name: 'POST batches/claim', method: 'POST', path: () => 'batches/claim', body: (f) => ({ runner_id: 'fuzz-other', limit: 1, lease_seconds: 60, batch_id: f.batchId, methods: ['GFN2-xTB'] }) },
  { name: 'POST batches/heartbeat', method: 'POST', path: () => 'batches/heartbeat', body: (f) => ({ runner_id: f.runnerId, item_ids: [f.held.item_id], lease_seconds: 600 }) },
  { name: 'POST batches/complete', method: 'POST', path: () => 'batches/complete', body: (f) => ({ runner_id: f.runnerId, item_id: f.held.item_id, result: resultFor(f.held) }) },
  { name: 'POST batches/complete-many', method: 'POST', path: () => 'batches/complete-many', body: (f) => ({ runner_id: f.runnerId, items: [{ item_id: f.held.item_id, result: resultFor(f.held) }] }) },
  { name: 'POST batches/fail', method: 'POST', path: () => 'batches/fail', body: (f) => ({ runner_id: f.runnerId, item_id: f.held.item_id, error_class: 'crash', message: 'boom' }) },
  { name: 'GET query/molecules', method: 'GET', path: () => 'query/molecules', queryKeys: keys(ListMoleculesQuery) },
  { name: 'GET query/molecules/:id', method: 'GET', path: (f) => `query/molecules/${f.moleculeId}`, idInPath: true, queryKeys: keys(GetByIdQuery) },
  { name: 'GET query/calculations', method: 'GET', path: () => 'query/calculations', queryKeys: keys(ListCalculationsQuery) },
  { name: 'GET query/calculations/:id', method: 'GET', path: (f) => `query/calculations/${f.calculationId}`, idInPath: true, queryKeys: keys(GetByIdQuery) },
  { name: 'GET query/calculations/:id/xtb.out', method: 'GET', path: (f) => `query/calculations/${f.calculationId}/xtb.out`, idInPath: true, queryKeys: keys(GetByIdQuery) },
  { name: 'GET query/stats', method: 'GET', path: () => 'query/stats', queryKeys: keys(StatsQuery) },
  { name: 'GET query/events', method: 'GET', path: () => 'query/events', queryKeys: keys(ListEventsQuery) },
  { name: 'GET query/export', method: 'GET', path: () => 'query/export', queryKeys: keys(ExportQuery) },
];

// ---------------------------------------------------------------------------------------------
// Cases

type Case =
  | { kind: 'mutate'; at: number; op: 'replace' | 'delete' | 'add' | 'deep'; value: unknown; key: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string; contentType: string | undefined }
  | { kind: 'numbers'; literal: string; at: number }
  | { kind: 'query'; params: [string, string][]; encodeRaw: boolean }
  | { kind: 'id'; id: string };

const CONTENT_TYPES = [
  undefined, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
  'application/json; charset=utf-16', 'application/jsonx', 'application/vnd.api+json', 'application/xml', '', '*/*',
];

const bogusCursor = fc.oneof(
  hostileString,
  hostileJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
  fc.record({
    r: fc.constantFrom('calculations', 'molecules', 'events', 'x'),
    s: fc.constantFrom('created_at', 'total_energy_eh', "'; drop table x; --"),
    o: fc.constantFrom('asc', 'desc', 'sideways'),
    v: fc.oneof(hostileString, hostileNumber, fc.constant('2026-01-01T00:00:00.000000Z')),
    id: fc.oneof(fc.uuid(), hostileString),
  }).map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')),
);

function caseArb(route: FuzzRoute): fc.Arbitrary<Case> {
  const arbs: fc.Arbitrary<Case>[] = [];
  if (route.body || route.method === 'POST' || route.method === 'PATCH') {
    arbs.push(
      fc.record({
        kind: fc.constant('mutate' as const),
        at: fc.nat(),
        op: fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const, 'add' as const, 'deep' as const),
        value: hostileJson,
        key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...SQL_META)),
      }),
      fc.record({ kind: fc.constant('json' as const), value: hostileJson }),
      fc.record({
        kind: fc.constant('raw' as const),
        text: fc.oneof(
          fc.constantFrom('', ' ', '\n', 'null', '[]', '""', '1', 'NaN', 'Infinity', '{"a":NaN}', '{', '}', '{"a":1,}', '\u0000',
            '{"calculations":[{"charge":1e999}]}', '{"__proto__":{"x":1}}', '[' .repeat(100_000) + ']'.repeat(100_000)),
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        contentType: fc.constantFrom(...CONTENT_TYPES),
      }),
      fc.record({
        kind: fc.constant('numbers' as const),
        literal: fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '1e-999', '0.0000000000000000000000001', '123456789012345678901234567890'),
        at: fc.nat(),
      }),
    );
  }
  const keysFor = [...(route.queryKeys ?? []), 'user_id', 'cursor', 'limit', 'x', "'", 'format'];
  arbs.push(fc.record({
    kind: fc.constant('query' as const),
    params: fc.array(fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keysFor) }, { weight: 1, arbitrary: hostileString.map((s) => s.slice(0, 100)) }),
      // URLs stay under 8 KB: longer ones are refused by Deno's HTTP server before any route (see below).
      fc.oneof(hostileString, bogusCursor, hostileNumber.map(String)).map((s) => s.slice(0, 1500)),
    ), { minLength: 1, maxLength: 4 }),
    encodeRaw: fc.boolean(),
  }));
  if (route.idInPath) {
    arbs.push(fc.record({ kind: fc.constant('id' as const), id: fc.oneof(hostileString.map((s) => s.slice(0, 2000)), fc.uuid()) }));
  }
  return fc.oneof(...arbs);
}

/** Every node of a JSON value, as paths. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function mutate(body: Record<string, unknown>, c: Extract<Case, { kind: 'mutate' }>): unknown {
  const copy = structuredClone(body);
  const all = paths(copy);
  const path = all[c.at % all.length];
  if (path.length === 0) return c.op === 'add' ? { ...copy, [c.key]: c.value } : c.value;
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], copy);
  const last = path[path.length - 1];
  const value = c.op === 'deep' ? nest(c.value, 200 + (c.at % 3000)) : c.value;
  if (c.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (c.op === 'add' && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
    parent[last][c.key] = value;
  } else {
    parent[last] = value;
  }
  return copy;
}

function nest(v: unknown, depth: number): unknown {
  let out = v;
  for (let i = 0; i < depth; i++) out = i % 2 ? { a: out } : [out];
  return out;
}

/** The valid body's JSON with its n-th number replaced by a literal JSON cannot (or can barely) hold. */
function withNumberLiteral(body: Record<string, unknown>, literal: string, at: number): string {
  const text = JSON.stringify(body);
  const numbers = [...text.matchAll(/(?<=[:\[,])-?\d+(\.\d+)?(e[+-]?\d+)?(?=[,\]}])/gi)];
  if (numbers.length === 0) return text.replace(/}$/, `,"n":${literal}}`);
  const m = numbers[at % numbers.length];
  return text.slice(0, m.index) + literal + text.slice(m.index! + m[0].length);
}

interface Request {
  path: string;
  method: string;
  rawBody?: string;
  contentType?: string;
  /** Whether a content-type header is sent at all (raw cases may omit it). */
  noContentType?: boolean;
}

function build(route: FuzzRoute, f: Fixture, c: Case): Request {
  const base = route.path(f);
  const template = route.body?.(f) ?? {};
  const hasBody = route.method === 'POST' || route.method === 'PATCH';
  const validBody = hasBody ? JSON.stringify(template) : undefined;
  switch (c.kind) {
    case 'mutate': return { path: base, method: route.method, rawBody: JSON.stringify(mutate(template, c)) ?? 'null' };
    case 'json': return { path: base, method: route.method, rawBody: JSON.stringify(c.value) ?? 'null' };
    case 'raw': return { path: base, method: route.method, rawBody: c.text, contentType: c.contentType, noContentType: c.contentType === undefined };
    case 'numbers': return { path: base, method: route.method, rawBody: withNumberLiteral(template, c.literal, c.at) };
    case 'query': {
      const search = c.encodeRaw
        // Hand-built: only what a URL cannot carry at all is escaped, so quotes, semicolons and
        // percent signs arrive as they are.
        ? c.params.map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(v)}`).join('&')
        : new URLSearchParams(c.params).toString();
      return { path: `${base}?${search}`, method: route.method, rawBody: validBody };
    }
    case 'id': {
      const path = base.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, encodeLoose(c.id).replace(/[/?]/g, encodeURIComponent));
      return { path, method: route.method, rawBody: validBody };
    }
  }
}

/** Percent-encodes only what a URL cannot carry; a lone surrogate becomes invalid UTF-8 (%ED%A0%80). */
function encodeLoose(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/[\x21-\x7e]/.test(ch) && !/[#&=+%]/.test(ch)) out += ch;
    else if (ch === '%') out += '%';
    else {
      try {
        out += encodeURIComponent(ch);
      } catch {
        out += '%ED%A0%80';
      }
    }
  }
  return out.replace(/%(?![0-9a-fA-F]{2})/g, '%25');
}

async function send(req: Request, token: string) {
  const { url } = inject('stack');
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (req.rawBody !== undefined && !req.noContentType) headers['content-type'] = req.contentType ?? 'application/json';
  const res = await fetch(`${url}/functions/v1/${req.path}`, {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'DELETE' ? undefined : req.rawBody,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the property below says what was wrong with it
  }
  return { status: res.status, body, contentType: res.headers.get('content-type') ?? '' };
}

const describeCase = (req: Request) =>
  `${req.method} ${req.path.slice(0, 300)} ${req.noContentType ? '(no content-type)' : req.contentType ?? ''} body=${(req.rawBody ?? '').slice(0, 300)}`;

/**
 * Findings reported to the product's owners and tolerated here until fixed, so the suite guards
 * everything else meanwhile. FUZZ_STRICT=1 turns them back into failures.
 */
const KNOWN: { name: string; matches: (res: { status: number; body: any }) => boolean }[] = [
  // None open: `?=x` (a parameter without a name) used to answer details[0].path "" and is fixed.
];
const strict = process.env.FUZZ_STRICT === '1';

/** The property every response must have. Returns what is wrong, or nothing. */
function problems(res: { status: number; body: any; contentType: string }): string[] {
  if (!strict && KNOWN.some((k) => k.matches(res))) return [];
  const out: string[] = [];
  if (res.status >= 500) out.push(`status ${res.status}`);
  if (res.status >= 400) {
    const e = res.body?.error;
    if (!/json/.test(res.contentType)) out.push(`error content-type ${res.contentType}`);
    if (!e || typeof e.code !== 'string' || !e.code) out.push('no error.code');
    if (!e || typeof e.message !== 'string' || !e.message.trim()) out.push('no error.message');
    if (e && (e.code === 'invalid_payload' || e.code === 'invalid_parameter')) {
      const d = e.details;
      if (!Array.isArray(d) || d.length === 0) out.push(`${e.code} without details naming the field`);
      else if (!d.every((x: any) => typeof x?.path === 'string' && x.path.length > 0 && typeof x.issue === 'string')) {
        out.push(`details without a path: ${JSON.stringify(d).slice(0, 200)}`);
      }
    }
  }
  return out.map((p) => `${p}: ${JSON.stringify(res.body).slice(0, 400)}`);
}

// ---------------------------------------------------------------------------------------------

let user: TestUser;
let f: Fixture;
let denoPid: number | undefined;
const rss: { route: string; kb: number }[] = [];

beforeAll(async () => {
  user = await newUser();
  f = await fixture(user);
  denoPid = await functionsPidFor(inject('stack').url);
  const kb = await rssKb(denoPid);
  if (kb) rss.push({ route: '(start)', kb });
});

afterAll(() => {
  if (process.env.FUZZ_REPORT) console.log(JSON.stringify({ runs: RUNS, rss }, null, 1));
});

describe(`fuzz: ${RUNS} cases per route`, () => {
  it.each(ROUTES.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    let counts = await userCounts(user.id);
    let statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(caseArb(route), async (c) => {
        const req = build(route, f, c);
        const res = await send(req, user.token);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const wrong = problems(res);
        if (wrong.length) throw new Error(`${describeCase(req)}\n  → ${res.status} ${wrong.join('; ')}`);
        const after = await userCounts(user.id);
        // Ingest answers 200 with per-item outcomes: all rejected is a rejected request too.
        const allRejected = route.name === 'POST ingest' && res.status === 200
          && res.body.results.every((r: { outcome: string }) => r.outcome === 'rejected');
        if (res.status >= 400 || allRejected) {
          expect(after, `a rejected request changed the user's rows: ${describeCase(req)}`).toEqual(counts);
        }
        if (allRejected) {
          for (const r of res.body.results) {
            if (!r.errors?.length || !r.errors.every((e: { path?: string }) => typeof e.path === 'string' && e.path.length > 0)) {
              throw new Error(`rejected item without field paths: ${JSON.stringify(r).slice(0, 300)}`);
            }
          }
        }
        counts = after;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // The fixture may have been consumed by a valid mutation (a completed item, a deleted
    // molecule): make a fresh one for the next route.
    f = await fixture(user);
    const kb = await rssKb(denoPid);
    if (kb) rss.push({ route: route.name, kb });
    if (process.env.FUZZ_REPORT) console.log(route.name, JSON.stringify(statuses));
    statuses = {};
  }, ROUTE_TIMEOUT_MS);
});

// ---------------------------------------------------------------------------------------------
// Items that stand alone (issue 17): one hostile item beside a valid one. The request answers 200,
// the valid item is stored, and the hostile one is stored or rejected naming its own fields, never
// a 5xx and never its neighbour's failure.

const UNSTORABLE = ['\u0000', 'a\u0000b', '\uD800', 'x\uDFFF', '\uDBFF\u0000'];
const hostileText = fc.tuple(fc.constantFrom(...UNSTORABLE), fc.string({ maxLength: 6 })).map(([bad, s]) => `${s}${bad}${s}`);

const qcschemaWith = (symbols: string[]) => ({
  schema_name: 'qcschema_output',
  molecule: { symbols, geometry: GEOMETRIES.O.flatMap((a) => a.xyz.map((v) => v / BOHR_ANGSTROM)), identifiers: { smiles: 'O' } },
  driver: 'energy', model: { method: 'GFN2-xTB' }, return_result: -5.07, properties: { return_energy: -5.07 }, success: true,
});

/** One hostile item: text Postgres cannot store, integers beyond 32 bits, QCSchema symbols, huge molecules. */
const hostileItem: fc.Arbitrary<{ kind: string; item: unknown }> = fc.oneof(
  fc.tuple(hostileText, fc.constantFrom('metadata value', 'metadata key', 'nested metadata', 'name', 'tag', 'source', 'xtb_version', 'error_message'), fc.nat(1e6))
    .map(([text, where, seed]) => {
      const base = calc({ seed: 5000 + seed, status: where === 'error_message' ? 'failed' : 'completed' }) as any;
      if (where === 'metadata value') base.metadata = { k: text };
      if (where === 'metadata key') base.metadata = { [text]: 1 };
      if (where === 'nested metadata') base.metadata = { a: [{ b: { c: text } }] };
      if (where === 'name') base.molecule = { ...base.molecule, name: text };
      if (where === 'tag') base.tags = ['ok', text];
      if (where === 'source') base.source = text;
      if (where === 'xtb_version') base.results = { ...base.results, xtb_version: text };
      if (where === 'error_message') base.error_message = text;
      return { kind: `text in ${where}`, item: base };
    }),
  fc.tuple(fc.constantFrom('charge', 'multiplicity'), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 1e15, 2 ** 31 - 1), fc.nat(1e6))
    .map(([field, value, seed]) => ({ kind: `${field} ${value}`, item: { ...calc({ seed: 6000 + seed }), [field]: value } })),
  fc.array(fc.constantFrom('', ' ', 'O', 'H', 'h', 'Xx', 'CL', '\u0000', 'Og'), { minLength: 0, maxLength: 4 })
    .map((symbols) => ({ kind: `QCSchema symbols ${JSON.stringify(symbols)}`, item: qcschemaWith(symbols) })),
  fc.tuple(fc.integer({ min: 380, max: 700 }), fc.nat(1e6))
    .map(([k, seed]) => ({ kind: `a chain of ${k} carbons (${3 * k + 2} atoms)`, item: calcWithAtoms('C'.repeat(k), { C: k, H: 2 * k + 2 }, seed) })),
);

describe(`fuzz: ingest items stand alone, ${RUNS} cases`, () => {
  it('[valid, hostile] answers 200: the valid item stored, the hostile one stored or rejected naming its own fields', async () => {
    const owner = await newUser();
    let seed = 0;
    await fc.assert(
      fc.asyncProperty(hostileItem, async ({ kind, item }) => {
        const valid = calc({ seed: ++seed });
        const res = await send({ path: 'ingest', method: 'POST', rawBody: JSON.stringify({ calculations: [valid, item] }) }, owner.token);
        const where = `${kind}: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;
        expect(res.status, where).toBe(200);
        expect(['created', 'duplicate'], where).toContain(res.body.results[0].outcome);
        const r = res.body.results[1];
        expect(['created', 'duplicate', 'rejected'], where).toContain(r.outcome);
        if (r.outcome === 'rejected') {
          expect(r.errors.length, where).toBeGreaterThan(0);
          for (const e of r.errors) expect(e.path, where).toMatch(/^calculations\[1\]/);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, ROUTE_TIMEOUT_MS + RUNS * 1000);
});

describe('megabyte strings', () => {
  const big = (mb: number) => 'é'.repeat((mb * 1024 * 1024) / 2);
  it('a 3 MB string in each body field of each write route is refused or stored, never a 5xx', async () => {
    const s = big(3);
    for (const route of ROUTES.filter((r) => r.body)) {
      const template = route.body!(f);
      const all = paths(template).filter((p) => p.length > 0);
      // The first few fields: enough to reach names, tags, ids and nested results.
      for (const at of all.slice(0, 6).map((_, i) => i + 1)) {
        const body = mutate(template, { kind: 'mutate', at, op: 'replace', value: s, key: '' });
        const before = await userCounts(user.id);
        const req = { path: route.path(f), method: route.method, rawBody: JSON.stringify(body) };
        const res = await send(req, user.token);
        expect(problems(res), `${route.name} field #${at}`).toEqual([]);
        if (res.status >= 400) expect(await userCounts(user.id)).toEqual(before);
      }
    }
  }, 180_000);

  it('a 10 MB string in ingest (molecule name and SMILES) is refused with the error shape', async () => {
    const s = big(10);
    for (const extra of [{ molecule: { smiles: s } }, { molecule: { smiles: 'O', name: s } }, { tags: [s] }]) {
      const before = await userCounts(user.id);
      const res = await send({ path: 'ingest', method: 'POST', rawBody: JSON.stringify({ calculations: [calc({ seed: 9, extra: extra as never })] }) }, user.token);
      expect(problems(res)).toEqual([]);
      // Ingest refuses items one by one: a 200 whose only item is rejected, naming the field.
      if (res.status === 200) {
        expect(res.body.results[0].outcome).toBe('rejected');
        expect(res.body.results[0].errors[0].path).toMatch(/^calculations\[0\]\./);
      } else {
        expect(res.status).toBeGreaterThanOrEqual(400);
      }
      expect(await userCounts(user.id)).toEqual(before);
    }
  }, 120_000);

  it('long URLs: no 5xx; what reaches the route answers in the error shape', async () => {
    const seen: string[] = [];
    for (const kb of [4, 8, 16, 32, 64]) {
      const res = await send({ path: `query/calculations?formula=${'C'.repeat(kb * 1024)}`, method: 'GET' }, user.token);
      seen.push(`${kb} KB: ${res.status} ${res.contentType || '(no content-type)'}`);
      expect(res.status, seen.join('; ')).toBeLessThan(500);
    }
    if (process.env.FUZZ_REPORT) console.log('long URLs', seen);
  });
});

describe('the functions process', () => {
  it('does not grow without bound over the fuzz run', async () => {
    if (!denoPid || rss.length < 4) return;
    const kb = rss.map((r) => r.kb);
    const warm = kb[Math.min(3, kb.length - 1)];
    const last = kb[kb.length - 1];
    // Garbage collection is lazy, so allow slack, but a leak per request would go far past this.
    expect(last, JSON.stringify(rss)).toBeLessThan(warm + 400 * 1024);
  });
});
