// Time and connections that fail fast and say why (issue 17), on a private stack with one
// connection per isolate, a 300 ms wait for it, and a 5 s statement timeout:
// - a request that finds every connection busy answers 503 database_busy at once, not after the
//   request holding it;
// - a statement that times out answers 504 query_timeout, which the typed client does not retry.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfApiError, QfClient } from '../../shared/client.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { calc } from '../support/payloads.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser } from '../support/users.ts';

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack({ DB_POOL_MAX: '1', DB_ACQUIRE_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '5000' });
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await stack?.destroy();
});

const newUser = () => createUser(sql, stack.jwtSecret);

const request = async (path: string, token: string, body?: unknown) => {
  const res = await fetch(`${stack.url}/functions/v1/${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() as any };
};

/** Every insert of atoms sleeps this long (inside the ingest statement) until `slow` is dropped. */
async function slowAtoms(seconds: number) {
  await sql.unsafe(`
    create or replace function public.test_slow_atoms() returns trigger language plpgsql as $$
    begin perform pg_sleep(${seconds}); return null; end $$;
    drop trigger if exists test_slow_atoms on public.atomic_properties;
    create trigger test_slow_atoms after insert on public.atomic_properties
      for each statement execute function public.test_slow_atoms();`);
  return () => sql.unsafe('drop trigger if exists test_slow_atoms on public.atomic_properties; drop function if exists public.test_slow_atoms();');
}

describe('connections and time', () => {
  it('a request that finds every connection busy answers 503 database_busy before the one holding it ends', async () => {
    const user = await newUser();
    await request('ingest', user.token, { calculations: [calc({ seed: 1 })] }); // RDKit loaded, molecule known
    const drop = await slowAtoms(3);
    try {
      const order: string[] = [];
      const slow = request('ingest', user.token, { calculations: [calc({ seed: 2 })] }).then((r) => { order.push(`ingest ${r.status}`); return r; });
      await new Promise((r) => setTimeout(r, 1500)); // the ingest holds the one connection now
      const busy = await request('query/stats', user.token);
      order.push(`stats ${busy.status}`);
      expect(busy.body.error).toMatchObject({ code: 'database_busy', message: expect.stringMatching(/busy for 300 ms/) });
      expect((await slow).status).toBe(200);
      expect(order).toEqual(['stats 503', 'ingest 200']);
    } finally {
      await drop();
    }
    // Free again: the next request is served.
    expect((await request('query/stats', user.token)).status).toBe(200);
  }, 60_000);

  it('a statement past the timeout answers 504 query_timeout, and the typed client does not send it again', async () => {
    const user = await newUser();
    const drop = await slowAtoms(8);
    try {
      const raw = await request('ingest', user.token, { calculations: [calc({ seed: 3 })] });
      expect(raw.status).toBe(504);
      expect(raw.body.error).toMatchObject({ code: 'query_timeout', message: expect.stringMatching(/narrow it/) });
      const supabase = nodeSupabase(stack.url, user.token);
      let requests = 0;
      const client = new QfClient({
        functions: { invoke: ((...args: Parameters<typeof supabase.functions.invoke>) => { requests++; return supabase.functions.invoke(...args); }) as typeof supabase.functions.invoke },
      } as never, { backoffMs: 1 });
      const err = await client.ingest([calc({ seed: 4 })]).catch((e) => e);
      expect(err).toBeInstanceOf(QfApiError);
      expect(err.status).toBe(504);
      expect(requests).toBe(1);
    } finally {
      await drop();
    }
    const [{ n }] = await sql`select count(*)::int as n from public.calculations where user_id = ${user.id}`;
    expect(n).toBe(0);
  }, 60_000);
});
