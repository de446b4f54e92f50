// Time and connections that fail fast and say why (issue 17), on a private stack with one
// connection per isolate, a 300 ms wait for it, and a 5 s statement timeout:
// - a request that finds every connection busy answers 503 database_busy at once, not after the
//   request holding it;
// - a statement that times out answers 504 query_timeout, which the typed client does not retry;
// - an export that streams for longer than that timeout still arrives whole: its streaming
//   statement runs under EXPORT_STATEMENT_TIMEOUT_MS (row-stream.ts).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfApiError, QfClient } from '../../shared/client.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { calc } from '../support/payloads.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';
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

  it('an export that streams for longer than the statement timeout still arrives whole', async () => {
    const user = await newUser();
    const N = 4_000;
    const [m] = await sql`
      insert into public.molecules (user_id, canonical_smiles, inchikey, molecule_key, formula, input_smiles, n_atoms)
      values (${user.id}, 'O', ${fakeInchikey()}, ${fakeInchikey()}, 'H2O', 'O', 3) returning id`;
    const [spec] = await sql`
      insert into public.specifications (user_id, spec)
      values (${user.id}, public.xtb_specification('GFN2-xTB', 'sp', null, '{}')) returning id`;
    await sql`
      insert into public.calculations (user_id, molecule_id, specification_id, method, task, status, total_energy_eh, geometry_sha256)
      select ${user.id}, ${m.id}, ${spec.id}, 'GFN2-xTB', 'sp', 'completed', -5 - g * 1e-6, encode(sha256(g::text::bytea), 'hex')
        from generate_series(1, ${N}::int) as g`;
    // Every row the export writes looks up its specification's hash; reading a specification now
    // takes 2 ms, so streaming 4,000 rows takes about 8 s, past the stack's 5 s statement timeout.
    // The look-ups before the streaming statement read no specification and stay fast.
    await sql.unsafe(`
      create function public.test_slow_read() returns boolean language sql volatile as 'select pg_sleep(0.002) is not null';
      create policy test_slow_read on public.specifications as restrictive for select to qf_api using (public.test_slow_read());`);
    try {
      const res = await fetch(`${stack.url}/functions/v1/query/export?format=csv`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(res.status).toBe(200);
      const lines = (await res.text()).trimEnd().split('\n');
      expect(lines.length).toBe(N + 1); // the header and every calculation
    } finally {
      await sql.unsafe('drop policy test_slow_read on public.specifications; drop function public.test_slow_read();');
    }
  }, 60_000);
});
