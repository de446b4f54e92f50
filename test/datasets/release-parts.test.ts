// A release sealed in parts (docs/releases.md, "Sealing in parts"): on a private stack whose
// datasets function hashes 3 members per request (RELEASE_PART_ROWS), 8 calculations take three
// requests. The release answers 202 until its last part, is neither listed nor exportable while
// sealing (409), and once sealed has the content hash and the export bytes of the same release
// made in one part by a second functions process on the same database with the default part size;
// the hash is the SHA-256 of its ndjson export. Two continuations at once hash consecutive parts.
// The typed client makes a release in one call. A member of a sealing release is guarded, and
// `force` drops the sealing release.
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalculations } from '../../bench/seed-calculations.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { startFunctions, type RunningFunctions } from '../../scripts/stack/functions.ts';
import { LOCAL_AUTH_ISSUER } from '../../scripts/stack/keys.ts';
import * as datasets from '../../shared/client-datasets.ts';
import { QfClient } from '../../shared/client.ts';
import type { ReleaseResponse, ReleaseSealing } from '../../shared/contract/datasets.ts';
import { freePort, startTestStack, type TestStack } from '../support/stack.ts';
import { createUser, type TestUser } from '../support/users.ts';

const PART = 3;
const N = 8;

let stack: TestStack;
/** The same database, served with the default part size: releases there are made in one part. */
let onePart: RunningFunctions;
let sql: postgres.Sql;
let user: TestUser;
/** A user of its own, whose calculations no published release holds (the guard's test). */
let owner: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ RELEASE_PART_ROWS: String(PART) });
  onePart = await startFunctions({
    port: await freePort(),
    env: { SUPABASE_DB_URL: stack.dbUrl, SUPABASE_JWT_SECRET: stack.jwtSecret, AUTH_ISSUER: LOCAL_AUTH_ISSUER, DB_ACQUIRE_TIMEOUT_MS: '15000' },
  });
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  user = await createUser(sql, stack.jwtSecret);
  await seedCalculations(sql, { userId: user.id, n: N, chunk: N });
  owner = await createUser(sql, stack.jwtSecret);
  // A pool of its own: a second seed on the first pool did not finish (its reserved connection
  // comes back with session_replication_role = replica).
  const other = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  try {
    await seedCalculations(other, { userId: owner.id, n: PART + 1, chunk: PART + 1 });
  } finally {
    await other.end();
  }
}, 600_000);

afterAll(async () => {
  await sql?.end();
  await onePart?.stop();
  await stack?.destroy();
});

const BODY = { license: 'CC0-1.0', authors: ['test'], filters: {} };

async function request(base: string, method: string, path: string, body?: unknown, token = user.token) {
  const res = await fetch(`${base}/functions/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, bytes, text };
}

const parts = (method: string, path: string, body?: unknown) => request(stack.url, method, path, body);

async function dataset(name: string): Promise<string> {
  const res = await parts('POST', 'datasets', { name });
  expect(res.status, res.text).toBe(201);
  return res.json.id;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function exportBytes(datasetId: string, version: number, format: string): Promise<Uint8Array> {
  const res = await parts('GET', `datasets/${datasetId}/releases/${version}/export?format=${format}`);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.bytes;
}

describe('a release sealed in parts', () => {
  it('answers 202 per part, is hidden and unexportable while sealing, and ends with the one-part hash and bytes', async () => {
    const id = await dataset('parts');
    const first = await parts('POST', `datasets/${id}/releases`, BODY);
    expect(first.status, first.text).toBe(202);
    const sealing = first.json as ReleaseSealing;
    expect(sealing.release).toMatchObject({ version: 1, status: 'sealing' });
    expect(sealing.sealing).toMatchObject({ members: N, hashed: PART, next: `datasets/${id}/releases/1/seal` });

    // Sealing: no manifest, no export, not listed.
    for (const path of [`datasets/${id}/releases/1`, `datasets/${id}/releases/1/export?format=ndjson`]) {
      const res = await parts('GET', path);
      expect(res.status, path).toBe(409);
      expect(res.json.error.message, path).toMatch(/release 1 is still being sealed \(3 of 8 members hashed\)/);
    }
    const listed = await parts('GET', 'datasets');
    expect(listed.json.data.find((d: { id: string }) => d.id === id).releases).toEqual([]);

    const second = await parts('POST', sealing.sealing.next, {});
    expect(second.status, second.text).toBe(202);
    expect(second.json.sealing).toMatchObject({ members: N, hashed: 2 * PART });
    const last = await parts('POST', sealing.sealing.next);
    expect(last.status, last.text).toBe(201);
    const sealed = last.json as ReleaseResponse;
    expect(sealed.release.status).toBe('published');
    expect(sealed.manifest.counts.calculations).toBe(N);
    const again = await parts('POST', sealing.sealing.next);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(sealed);

    // The same members made in one part by the other process: version 2 of the same dataset.
    const whole = await request(onePart.url, 'POST', `datasets/${id}/releases`, BODY);
    expect(whole.status, whole.text).toBe(201);
    const one = whole.json as ReleaseResponse;
    expect(one.release.version).toBe(2);
    expect(sealed.release.content_sha256).toBe(one.release.content_sha256);
    expect(sealed.manifest.content).toEqual(one.manifest.content);

    const ndjson = await exportBytes(id, 1, 'ndjson');
    expect(sha256(ndjson)).toBe(sealed.manifest.content.sha256);
    expect(ndjson.byteLength).toBe(sealed.manifest.content.bytes);
    expect(Buffer.from(ndjson).equals(Buffer.from(await exportBytes(id, 2, 'ndjson')))).toBe(true);
    expect(Buffer.from(await exportBytes(id, 1, 'extxyz')).equals(Buffer.from(await exportBytes(id, 2, 'extxyz')))).toBe(true);

    const [row] = await sql`select hashed_through, hashed_bytes, sha256_midstate from public.releases where id = ${sealed.release.id}`;
    expect(row).toEqual({ hashed_through: null, hashed_bytes: null, sha256_midstate: null });
    const events = await sql`
      select event_type from public.event_logs where entity_id = ${sealed.release.id} order by created_at`;
    expect(events.map((e) => e.event_type)).toEqual(['release_created']);
  });

  it('two continuations at once hash consecutive parts, and the release hashes to its export', async () => {
    const id = await dataset('concurrent');
    const first = await parts('POST', `datasets/${id}/releases`, BODY);
    expect(first.status, first.text).toBe(202);
    const next = (first.json as ReleaseSealing).sealing.next;
    const both = await Promise.all([parts('POST', next), parts('POST', next)]);
    // One hashed members 4–6 (202), the other waited for its lock and hashed 7–8 (201). Without
    // the lock both would hash 4–6 and answer 202.
    expect(both.map((r) => r.status).sort(), both.map((r) => r.text).join('\n')).toEqual([201, 202]);
    const sealed = both.find((r) => r.status === 201)!.json as ReleaseResponse;
    expect(both.find((r) => r.status === 202)!.json.sealing.hashed).toBe(2 * PART);
    expect(sha256(await exportBytes(id, 1, 'ndjson'))).toBe(sealed.manifest.content.sha256);
    const one = await request(onePart.url, 'POST', `datasets/${id}/releases`, BODY);
    expect(one.status, one.text).toBe(201);
    expect(one.json.release.content_sha256).toBe(sealed.release.content_sha256);
  });

  it('the typed client makes a release in one call, reporting each part', async () => {
    const client = new QfClient(nodeSupabase(stack.url, user.token));
    const made = await datasets.createDataset(client, { name: 'client' });
    const progress: number[] = [];
    const release = await datasets.createRelease(client, made.id, BODY, { onSealing: (s) => progress.push(s.sealing.hashed) });
    expect(progress).toEqual([3, 6]);
    expect(release.release).toMatchObject({ version: 1, status: 'published', calculations: N });
    expect(sha256(await exportBytes(made.id, 1, 'ndjson'))).toBe(release.manifest.content.sha256);
  });

  it('a member of a sealing release cannot be deleted; force drops the sealing release', async () => {
    // Calculations no published release holds: only the guard's rule for sealing releases can
    // refuse the delete.
    const as = (method: string, path: string, body?: unknown) => request(stack.url, method, path, body, owner.token);
    const made = await as('POST', 'datasets', { name: 'guarded' });
    expect(made.status, made.text).toBe(201);
    const id = made.json.id as string;
    const first = await as('POST', `datasets/${id}/releases`, BODY);
    expect(first.status, first.text).toBe(202);
    const sealing = first.json as ReleaseSealing;
    const [member] = await sql`
      select rm.calculation_id::text as id from public.release_members rm
       where rm.release_id = ${sealing.release.id} order by rm.ordinal desc limit 1`;
    const refused = await as('DELETE', `ingest/calculations/${member.id}`);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.message).toMatch(/is held by release guarded v1/);
    expect(refused.json.error.details[0].issue).toMatch(/release 1 \(being sealed\) holds/);

    const forced = await as('DELETE', `ingest/calculations/${member.id}?force=true`);
    expect(forced.status, forced.text).toBe(200);
    expect((await as('GET', `datasets/${id}/releases/1`)).status).toBe(404);
    expect((await as('POST', sealing.sealing.next)).status).toBe(404);
    const [{ n }] = await sql`select count(*)::int as n from public.release_members where release_id = ${sealing.release.id}`;
    expect(n).toBe(0);
  });
});
