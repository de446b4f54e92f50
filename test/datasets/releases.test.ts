// Dataset releases (issue 19), over HTTP against the real stack: a release of the fixture upload
// exports the same bytes after new ingests and a non-member delete, its SHA-256 is the manifest's
// and its ETag; parts taken by cursor join to the whole; deleting a member is a 409 naming the
// release on every delete path, and `force` withdraws it; splits share no InChIKey and the same
// seed gives the same bytes; profile=mace carries total_charge/total_spin and REF_ keys that ASE
// reads back; events are written; bad input is a 4xx naming the field; another user sees nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as datasets from '../../shared/client-datasets.ts';
import type { Manifest, ReleaseResponse } from '../../shared/contract/datasets.ts';
import { parseJobFiles, readJobFiles, walkJobs } from '../../shared/xtb/index.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { FIXTURE_JOBS } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

const run = promisify(execFile);
const LICENSE = 'CC-BY-4.0';
const AUTHORS = ['A. Tester'];

let dir: string;

async function fixtureItems() {
  const items = [];
  for await (const ev of walkJobs(FIXTURE_JOBS)) {
    if (ev.kind !== 'job') continue;
    const parsed = parseJobFiles(ev.path, readJobFiles(ev.dir));
    if (parsed.calculation) items.push(parsed.calculation);
  }
  return items;
}

/** A user with the fixture upload stored. */
async function uploader(): Promise<TestUser> {
  const user = await newUser();
  const results = await clientFor(user.token).ingest(await fixtureItems());
  expect(results.filter((r) => r.outcome === 'created').length).toBeGreaterThan(15);
  return user;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function exportOf(user: TestUser, datasetId: string, version: number, params: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${inject('stack').url}/functions/v1/datasets/${datasetId}/releases/${version}/export?${params}`,
    { headers: { authorization: `Bearer ${user.token}`, ...headers } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

async function exportBytes(user: TestUser, datasetId: string, version: number, params: string): Promise<Uint8Array> {
  const res = await exportOf(user, datasetId, version, params);
  expect(res.status, new TextDecoder().decode(res.bytes).slice(0, 300)).toBe(200);
  return res.bytes;
}

async function makeDataset(user: TestUser, name: string): Promise<string> {
  const res = await call('datasets', { token: user.token, body: { name, description: 'test' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function makeRelease(user: TestUser, datasetId: string, extra: Record<string, unknown> = {}): Promise<ReleaseResponse> {
  const res = await call(`datasets/${datasetId}/releases`, {
    token: user.token, body: { license: LICENSE, authors: AUTHORS, filters: {}, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** ASE reads the file; each frame comes back as plain JSON. */
async function aseRead(text: string): Promise<any[]> {
  const file = path.join(dir, `frames-${Math.random().toString(36).slice(2)}.extxyz`);
  writeFileSync(file, text);
  const script = `
import json, sys, ase.io
out = []
for a in ase.io.read(sys.argv[1], index=':', format='extxyz'):
    res = dict(a.calc.results) if a.calc is not None else {}
    out.append({
        'info': {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in a.info.items()},
        'symbols': a.get_chemical_symbols(),
        'results': {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in res.items()},
        'arrays': {k: v.tolist() for k, v in a.arrays.items() if k not in ('numbers', 'positions')},
    })
print(json.dumps(out))
`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script, file], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'qf-releases-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a frozen release', () => {
  let user: TestUser;
  let datasetId: string;
  let first: ReleaseResponse;

  beforeAll(async () => {
    user = await uploader();
    datasetId = await makeDataset(user, 'fixtures');
    first = await makeRelease(user, datasetId, { description: 'the fixture upload', doi: '10.5281/zenodo.123456' });
  }, 180_000);

  it('has a manifest computed by the database', async () => {
    const sql = adminSql();
    const [want] = await sql`
      select count(*)::int as calculations, count(distinct c.molecule_id)::int as molecules, sum(m.n_atoms)::int as atoms,
             min(c.total_energy_eh) as emin, max(c.total_energy_eh) as emax
        from public.calculations c join public.molecules m on m.id = c.molecule_id
       where c.user_id = ${user.id} and c.status = 'completed'`;
    const elements = await sql<{ element: string; n: number }[]>`
      select p.element, count(*)::int as n from public.atomic_properties p join public.calculations c on c.id = p.calculation_id
       where c.user_id = ${user.id} and c.status = 'completed' group by p.element order by p.element`;
    const m: Manifest = first.manifest;
    expect(first.release).toMatchObject({ version: 1, status: 'published', calculations: want.calculations, withdrawn_reason: null });
    expect(m).toMatchObject({
      version: 1, status: 'published', license: LICENSE, authors: AUTHORS, doi: '10.5281/zenodo.123456', description: 'the fixture upload',
      dataset: { id: datasetId, name: 'fixtures' },
      counts: { calculations: want.calculations, molecules: want.molecules, atoms: want.atoms },
      energy_eh: { min: want.emin, max: want.emax },
      splits: null,
    });
    expect(m.elements).toEqual(Object.fromEntries(elements.map((e) => [e.element, e.n])));
    expect(m.methods).toContain('GFN2-xTB');
    expect(m.xtb_versions).toContain('6.5.1');
    expect(m.specifications.reduce((n, s) => n + s.calculations, 0)).toBe(want.calculations);
    expect(m.content.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.release.content_sha256).toBe(m.content.sha256);
    const got = await call(`datasets/${datasetId}/releases/1`, { token: user.token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(first);
  });

  it('exports the same bytes after new ingests and a non-member delete; its SHA-256 is the manifest\'s and the ETag', async () => {
    const before = {
      ndjson: await exportOf(user, datasetId, 1, 'format=ndjson'),
      extxyz: await exportBytes(user, datasetId, 1, 'format=extxyz'),
      csv: await exportBytes(user, datasetId, 1, 'format=csv'),
      mace: await exportBytes(user, datasetId, 1, 'format=extxyz&profile=mace'),
    };
    expect(before.ndjson.status).toBe(200);
    expect(sha256(before.ndjson.bytes)).toBe(first.manifest.content.sha256);
    expect(before.ndjson.bytes.byteLength).toBe(first.manifest.content.bytes);
    expect(before.ndjson.headers.get('etag')).toBe(`"${first.manifest.content.sha256}"`);
    const lines = new TextDecoder().decode(before.ndjson.bytes).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(first.manifest.counts.calculations);
    // Canonical order: InChIKey, then id.
    const keys = lines.map((l) => `${l.inchikey} ${l.id}`);
    expect(keys).toEqual([...keys].sort());

    // New matching calculations, and a delete of a calculation the release does not hold.
    const more = await clientFor(user.token).ingest([await calcOf('CCO', { seed: 7 }), await calcOf('CCN', { seed: 3 })]);
    expect(more.every((r) => r.outcome === 'created')).toBe(true);
    const sql = adminSql();
    const [outsider] = await sql`select id from public.calculations where user_id = ${user.id} and status <> 'completed' limit 1`;
    expect(outsider).toBeDefined();
    const gone = await call(`ingest/calculations/${outsider.id}`, { method: 'DELETE', token: user.token });
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    await call(`ingest/calculations/${more[0].calculation_id}`, { method: 'DELETE', token: user.token });

    const after = await exportOf(user, datasetId, 1, 'format=ndjson');
    expect(Buffer.from(after.bytes).equals(Buffer.from(before.ndjson.bytes))).toBe(true);
    expect(sha256(after.bytes)).toBe(first.manifest.content.sha256);
    expect(Buffer.from(await exportBytes(user, datasetId, 1, 'format=extxyz')).equals(Buffer.from(before.extxyz))).toBe(true);
    expect(Buffer.from(await exportBytes(user, datasetId, 1, 'format=csv')).equals(Buffer.from(before.csv))).toBe(true);
    expect(Buffer.from(await exportBytes(user, datasetId, 1, 'format=extxyz&profile=mace')).equals(Buffer.from(before.mace))).toBe(true);

    // A conditional request with the ETag: nothing to send.
    const cached = await exportOf(user, datasetId, 1, 'format=ndjson', { 'if-none-match': `"${first.manifest.content.sha256}"` });
    expect(cached.status).toBe(304);

    // A new release of the same filter holds the new calculation; release 1 is unchanged.
    const second = await makeRelease(user, datasetId);
    expect(second.release.version).toBe(2);
    expect(second.manifest.counts.calculations).toBe(first.manifest.counts.calculations + 1);
    expect((await call(`datasets/${datasetId}/releases/1`, { token: user.token })).body).toEqual(first);
  }, 120_000);

  it('resumes by cursor: the parts join to the whole export, byte for byte', async () => {
    for (const format of ['ndjson', 'extxyz', 'csv']) {
      const whole = await exportBytes(user, datasetId, 1, `format=${format}`);
      const parts: Buffer[] = [];
      let params = `format=${format}&limit=4`;
      for (let i = 0; i < 100; i++) {
        const res = await exportOf(user, datasetId, 1, params);
        expect(res.status).toBe(200);
        expect(res.headers.get('etag')).toBeNull();
        parts.push(Buffer.from(res.bytes));
        const next = res.headers.get('x-next-cursor');
        if (!next) break;
        params = `format=${format}&limit=4&cursor=${next}`;
      }
      expect(parts.length).toBeGreaterThan(2);
      expect(Buffer.concat(parts).equals(Buffer.from(whole)), format).toBe(true);
    }
    // The typed client does the same.
    const chunks: Uint8Array[] = [];
    for await (const c of datasets.releaseExportStream({
      url: inject('stack').url, token: user.token, datasetId, version: 1, params: { format: 'ndjson', limit: 5 },
    })) chunks.push(c);
    expect(sha256(Buffer.concat(chunks))).toBe(first.manifest.content.sha256);
  }, 60_000);

  it('writes profile=mace with REF_ keys and total_charge/total_spin, which ASE reads back', async () => {
    const text = new TextDecoder().decode(await exportBytes(user, datasetId, 1, 'format=extxyz&profile=mace'));
    expect(text).not.toMatch(/ charge=| multiplicity=| energy=/);
    const frames = await aseRead(text);
    expect(frames).toHaveLength(first.manifest.counts.calculations);
    const sql = adminSql();
    const stored = new Map((await sql`select id, charge, multiplicity, total_energy_eh from public.calculations where user_id = ${user.id}`)
      .map((r) => [r.id, r]));
    for (const f of frames) {
      const s = stored.get(f.info.calc_id)!;
      expect(f.info.total_charge).toBe(s.charge);
      expect(f.info.total_spin).toBe(s.multiplicity);
      expect(Math.abs(f.info.REF_energy - s.total_energy_eh * 27.211386245988)).toBeLessThan(1e-6);
      expect(f.info.charge).toBeUndefined();
      expect(f.info.multiplicity).toBeUndefined();
      expect(f.results.energy).toBeUndefined();
    }
    // The cation and the radical of the fixtures.
    expect(frames.some((f) => f.info.total_charge === 1)).toBe(true);
    expect(frames.some((f) => f.info.total_spin === 2)).toBe(true);
    expect(frames.some((f) => Array.isArray(f.arrays.REF_forces))).toBe(true);
    expect(frames.every((f) => Array.isArray(f.arrays.REF_charges))).toBe(true);
  }, 60_000);

  it('lists the dataset with its releases, and wrote dataset_created and release_created events', async () => {
    const list = await datasets.listDatasets(clientFor(user.token));
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ id: datasetId, name: 'fixtures', description: 'test' });
    expect(list.data[0].releases.map((r) => r.version)).toEqual([1, 2]);
    const events = await adminSql()`
      select event_type, entity_type, payload from public.event_logs
       where user_id = ${user.id} and event_type in ('dataset_created', 'release_created') order by id`;
    expect(events.map((e) => e.event_type)).toEqual(['dataset_created', 'release_created', 'release_created']);
    expect(events[1]).toMatchObject({ entity_type: 'release', payload: { version: 1, content_sha256: first.manifest.content.sha256 } });
  });
});

describe('a member of a published release', () => {
  let user: TestUser;
  let datasetId: string;
  let release: ReleaseResponse;
  let member: { id: string; molecule_id: string; inchikey: string };

  beforeAll(async () => {
    user = await uploader();
    datasetId = await makeDataset(user, 'held');
    release = await makeRelease(user, datasetId);
    [member] = await adminSql()`
      select c.id, c.molecule_id, m.inchikey from public.calculations c join public.molecules m on m.id = c.molecule_id
       where c.user_id = ${user.id} and c.status = 'completed' order by m.inchikey limit 1`;
  }, 180_000);

  it('cannot be deleted or changed by any path: 409 naming the release', async () => {
    const attempts = {
      'DELETE /ingest/calculations/:id': await call(`ingest/calculations/${member.id}`, { method: 'DELETE', token: user.token }),
      'POST /ingest/delete': await call('ingest/delete', { token: user.token, body: { filters: { inchikey: member.inchikey }, dry_run: false } }),
      'DELETE /ingest/molecules/:id': await call(`ingest/molecules/${member.molecule_id}`, { method: 'DELETE', token: user.token }),
      'PATCH /ingest/calculations/:id': await call(`ingest/calculations/${member.id}`, { method: 'PATCH', token: user.token, body: { tags: ['changed'] } }),
    };
    for (const [what, res] of Object.entries(attempts)) {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      expect(res.body.error.message).toContain('held by release held v1');
      expect(res.body.error.details).toEqual([{ path: `releases.${release.release.id}`, issue: `dataset held release 1 holds calculation ${member.id}` }]);
    }
    const [still] = await adminSql()`select count(*)::int as n from public.calculations where id = ${member.id}`;
    expect(still.n).toBe(1);
    expect((await call(`datasets/${datasetId}/releases/1`, { token: user.token })).body.release.status).toBe('published');
  });

  it('with force, goes, and the release reads withdrawn with the reason; its export is refused', async () => {
    const res = await call(`ingest/calculations/${member.id}?force=true`, { method: 'DELETE', token: user.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const got = await call(`datasets/${datasetId}/releases/1`, { token: user.token });
    expect(got.body.release).toMatchObject({ status: 'withdrawn', withdrawn_reason: `calculation ${member.id} deleted with force` });
    expect(got.body.manifest.status).toBe('withdrawn');
    expect(got.body.manifest.withdrawn.reason).toBe(`calculation ${member.id} deleted with force`);
    // Everything else of the manifest is as it was.
    const { status: _s, withdrawn: _w, ...rest } = got.body.manifest;
    const { status: _s0, ...was } = release.manifest;
    expect(rest).toEqual(was);
    const exp = await exportOf(user, datasetId, 1, 'format=ndjson');
    expect(exp.status).toBe(409);
    expect(JSON.parse(new TextDecoder().decode(exp.bytes)).error.message).toContain('withdrawn');
    const [event] = await adminSql()`
      select payload from public.event_logs where user_id = ${user.id} and event_type = 'release_withdrawn'`;
    expect(event.payload).toMatchObject({ version: 1, reason: `calculation ${member.id} deleted with force` });
    // A withdrawn release no longer guards its members: the molecule goes without force.
    const molecule = await call(`ingest/molecules/${member.molecule_id}`, { method: 'DELETE', token: user.token });
    expect(molecule.status, JSON.stringify(molecule.body)).toBe(200);
  });
});

describe('splits', () => {
  let user: TestUser;
  let datasetId: string;

  beforeAll(async () => {
    user = await uploader();
    // More molecules, so that every split gets some.
    const extra = [];
    for (const smiles of ['C', 'CC', 'CCC', 'CCCC', 'CO', 'CCO', 'CN', 'CCN', 'C=O', 'CC=O', 'N', 'O=CO', 'C#N', 'CC#N', 'OCCO', 'NCCO']) {
      extra.push(await calcOf(smiles));
    }
    await clientFor(user.token).ingest(extra);
    datasetId = await makeDataset(user, 'split');
  }, 180_000);

  it('assigns by molecule (no InChIKey in two splits), states fractions and seed, and the same seed gives the same bytes', async () => {
    const split = { seed: 'qf-2026', fractions: { train: 0.6, validation: 0.2, test: 0.2 } };
    const a = await makeRelease(user, datasetId, { split });
    const b = await makeRelease(user, datasetId, { split });
    expect(a.manifest.splits).toMatchObject({ by: 'inchikey', seed: 'qf-2026', fractions: { train: 0.6, validation: 0.2, test: 0.2 } });
    const byKey = new Map<string, string>();
    let total = 0;
    for (const name of ['train', 'validation', 'test'] as const) {
      const bytes = await exportBytes(user, datasetId, 1, `format=ndjson&split=${name}`);
      expect(Buffer.from(bytes).equals(Buffer.from(await exportBytes(user, datasetId, 2, `format=ndjson&split=${name}`)))).toBe(true);
      const rows = new TextDecoder().decode(bytes).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(rows.length, name).toBe(a.manifest.splits!.calculations[name]);
      expect(rows.length, name).toBeGreaterThan(0);
      total += rows.length;
      for (const r of rows) {
        expect(byKey.get(r.inchikey) ?? name, r.inchikey).toBe(name);
        byKey.set(r.inchikey, name);
      }
    }
    expect(total).toBe(a.manifest.counts.calculations);
    expect(new Set(byKey.values()).size).toBe(3);
    // Another seed assigns differently; a split of a release made without one is a 400.
    const c = await makeRelease(user, datasetId, { split: { ...split, seed: 'another' } });
    expect(c.manifest.splits!.calculations).not.toEqual(a.manifest.splits!.calculations);
    const plain = await makeRelease(user, datasetId);
    const bad = await exportOf(user, datasetId, plain.release.version, 'format=ndjson&split=train');
    expect(bad.status).toBe(400);
    expect(b.manifest.content.sha256).toBe(a.manifest.content.sha256);
  }, 120_000);
});

describe('bad input and other users', () => {
  let user: TestUser;
  let other: TestUser;
  let datasetId: string;

  beforeAll(async () => {
    user = await newUser();
    other = await newUser();
    await clientFor(user.token).ingest([await calcOf('CCO'), await calcOf('CC', { status: 'failed' })]);
    datasetId = await makeDataset(user, 'small');
    await makeRelease(user, datasetId);
  }, 60_000);

  it('names the field of a bad request', async () => {
    const post = (body: unknown, id = datasetId) => call(`datasets/${id}/releases`, { token: user.token, body });
    const cases: [unknown, number, string][] = [
      [{ authors: AUTHORS, filters: {} }, 422, 'license'],
      [{ license: 'not a licence!', authors: AUTHORS, filters: {} }, 422, 'license'],
      [{ license: LICENSE, authors: [], filters: {} }, 422, 'authors'],
      [{ license: LICENSE, authors: AUTHORS }, 422, 'filters'],
      [{ license: LICENSE, authors: AUTHORS, filters: { energy_min: 'x' } }, 422, 'filters.energy_min'],
      [{ license: LICENSE, authors: AUTHORS, filters: { method: 'GFN-FF' } }, 422, 'filters'],
      [{ license: LICENSE, authors: AUTHORS, calculation_ids: ['00000000-0000-4000-8000-000000000000'] }, 422, 'calculation_ids[0]'],
      [{ license: LICENSE, authors: AUTHORS, filters: {}, split: { seed: 's', fractions: { train: 0.5, validation: 0.1, test: 0.1 } } }, 422, 'split.fractions'],
    ];
    for (const [body, status, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.details.map((d: { path: string }) => d.path), JSON.stringify(res.body)).toContain(field);
    }
    expect((await post({ license: LICENSE, authors: AUTHORS, filters: {} }, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('datasets', { token: user.token, body: { name: 'small' } })).status).toBe(409);
    expect((await call('datasets', { token: user.token, body: { name: '../x' } })).body.error.details[0].path).toBe('name');
    expect((await call(`datasets/${datasetId}/releases/x`, { token: user.token })).status).toBe(400);
    expect((await call(`datasets/${datasetId}/releases/9`, { token: user.token })).status).toBe(404);
    expect((await exportOf(user, datasetId, 1, 'format=ndjson&profile=mace')).status).toBe(400);
    expect((await exportOf(user, datasetId, 1, 'format=xml')).status).toBe(400);
    expect((await exportOf(user, datasetId, 1, 'format=ndjson&cursor=abc')).status).toBe(400);
  });

  it('shows another user nothing', async () => {
    expect((await call('datasets', { token: other.token })).body).toEqual({ data: [], next_cursor: null });
    expect((await call(`datasets/${datasetId}/releases/1`, { token: other.token })).status).toBe(404);
    expect((await exportOf(other, datasetId, 1, 'format=ndjson')).status).toBe(404);
    const res = await call(`datasets/${datasetId}/releases`, { token: other.token, body: { license: LICENSE, authors: AUTHORS, filters: {} } });
    expect(res.status).toBe(404);
    expect((await call('datasets', { token: null })).status).toBe(401);
  });
});
