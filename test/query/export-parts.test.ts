// An export answers in parts (issue 17): a hosted function gets 2 s of CPU per request, and an
// export costs the function about 1 s per 40,000 calculations, so no response holds more than the
// part size (EXPORT_PART_ROWS, MAX_EXPORT_LIMIT by default), with or without `limit`. Where more
// follow, X-Next-Cursor continues, and the parts joined are the whole file: the csv header once,
// every calculation once, and a release's ndjson hashing to its manifest. On a private stack with
// parts of 2, so that 5 calculations take 3 parts.
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalculations } from '../../bench/seed-calculations.ts';
import { cursorDownload } from '../../shared/client-query.ts';
import { NEXT_CURSOR_HEADER } from '../../shared/contract/query.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser, type TestUser } from '../support/users.ts';

const PART = 2;
const N = 5;

let stack: TestStack;
let sql: postgres.Sql;
let user: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ EXPORT_PART_ROWS: String(PART) });
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  user = await createUser(sql, stack.jwtSecret);
  await seedCalculations(sql, { userId: user.id, n: N, chunk: N });
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await stack?.destroy();
});

const fn = (path: string) => `${stack.url}/functions/v1/${path}`;
const get = (path: string) => fetch(fn(path), { headers: { authorization: `Bearer ${user.token}` } });

/** Every part of a download joined, as the typed client takes it. */
async function whole(path: string): Promise<string> {
  const chunks: Buffer[] = [];
  const part = (cursor: string | undefined) => (cursor ? `${fn(path)}&cursor=${encodeURIComponent(cursor)}` : fn(path));
  for await (const chunk of cursorDownload(part, { token: user.token })) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

describe('exports in parts', () => {
  it('a response without limit, or with a larger one, holds one part and names the next', async () => {
    for (const query of ['format=ndjson', 'format=ndjson&limit=1000']) {
      const res = await get(`query/export?${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get(NEXT_CURSOR_HEADER), query).toBeTruthy();
      expect((await res.text()).trim().split('\n'), query).toHaveLength(PART);
    }
  });

  it('the parts joined hold every calculation once, and the csv header once', async () => {
    const ids = (await whole('query/export?format=ndjson')).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    const stored = await sql<{ id: string }[]>`select id::text from public.calculations where user_id = ${user.id}`;
    expect(new Set(ids)).toEqual(new Set(stored.map((r) => r.id)));

    const csv = (await whole('query/export?format=csv')).trim().split(/\r?\n/);
    expect(csv).toHaveLength(N + 1);
    expect(csv.filter((line) => line === csv[0])).toHaveLength(1);
  });

  it('a release larger than a part: no ETag on the first part, and the parts joined hash to the manifest', async () => {
    const post = (path: string, body: unknown) => fetch(fn(path), {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const ds = await post('datasets', { name: 'parts' });
    expect(ds.status).toBe(201);
    const dataset = await ds.json() as { id: string };
    const made = await post(`datasets/${dataset.id}/releases`, { license: 'CC0-1.0', authors: ['test'], filters: {} });
    expect(made.status, await made.clone().text()).toBe(201);
    const { manifest } = await made.json() as { manifest: { counts: { calculations: number }; content: { sha256: string } } };
    expect(manifest.counts.calculations).toBe(N);

    const first = await get(`datasets/${dataset.id}/releases/1/export?format=ndjson`);
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBeNull();
    expect(first.headers.get(NEXT_CURSOR_HEADER)).toBeTruthy();
    await first.body?.cancel();

    const joined = await whole(`datasets/${dataset.id}/releases/1/export?format=ndjson`);
    expect(joined.trim().split('\n')).toHaveLength(N);
    expect(createHash('sha256').update(joined).digest('hex')).toBe(manifest.content.sha256);
  });
});
