// Slow export readers cannot take an instance from everybody else (issue 17): one user opens 6
// exports of 6,000 calculations and reads none of them. Each open export holds a database
// connection (its server-side cursor waits for the reader), so without a quota five of them held
// every connection of the query instance and another user's /query/stats waited for a 503. With
// EXPORTS_PER_USER (2 by default) the others answer 429 quota_exceeded with Retry-After at once,
// the other user is served, and a closed export frees its slot. On a private stack, so that no
// other test's export is counted in pg_stat_activity (nor hindered by these).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalculations } from '../../bench/seed-calculations.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser } from '../support/users.ts';

const PER_USER = 2;

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await stack?.destroy();
});

const url = (path: string) => `${stack.url}/functions/v1/query/${path}`;
const exportOf = (token: string, signal?: AbortSignal) =>
  fetch(url('export?format=extxyz'), { headers: { authorization: `Bearer ${token}` }, signal });

describe('open exports per user', () => {
  it('6 exports held open by readers that never read: 2 stream, 4 get 429 with Retry-After, /stats of another user answers', async () => {
    const slow = await createUser(sql, stack.jwtSecret);
    const other = await createUser(sql, stack.jwtSecret);
    await seedCalculations(sql, { userId: slow.id, n: 6000, chunk: 3000 });

    const controllers = Array.from({ length: 6 }, () => new AbortController());
    // One after another, so which ones get through does not depend on timing.
    const held: Response[] = [];
    const refused: Response[] = [];
    for (const controller of controllers) {
      const res = await exportOf(slow.token, controller.signal);
      if (res.status === 200) held.push(res);
      else refused.push(res);
    }
    expect(held).toHaveLength(PER_USER);
    expect(refused.map((r) => r.status)).toEqual([429, 429, 429, 429]);
    for (const r of refused) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = await r.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe('quota_exceeded');
      expect(body.error.message).toContain('EXPORTS_PER_USER');
    }

    // The held exports are still open (nobody read them), and another user is served.
    const stats = await fetch(url('stats'), { headers: { authorization: `Bearer ${other.token}` } });
    expect(stats.status).toBe(200);
    const [{ n: exporting }] = await sql`
      select count(*)::int as n from pg_stat_activity
       where query like '%qf:export%' and query not like '%pg_stat_activity%'
         and state in ('active', 'idle in transaction')`;
    expect(exporting).toBe(PER_USER);

    // Hanging up frees the slot: the next export of the same user streams.
    controllers[0].abort();
    await held[0].body?.cancel().catch(() => {});
    let next = await exportOf(slow.token);
    for (let i = 0; i < 50 && next.status === 429; i++) {
      await next.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
      next = await exportOf(slow.token);
    }
    expect(next.status).toBe(200);
    await next.body?.cancel();
    for (const c of controllers) c.abort();
    for (const r of held) await r.body?.cancel().catch(() => {});
  }, 180_000);
});
