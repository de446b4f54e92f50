// Faults, on a private stack: (a) the postmaster is SIGKILLed while 4 clients ingest, and started
// again; (b) the Deno functions process is SIGKILLed and restarted mid-stream; (c) a statement fails
// mid-transaction (lock_not_available, query_canceled, a real lock timeout). Nothing acknowledged is
// lost, nothing is stored twice, clients see 503s or network errors but never a 500 or a hang, the
// typed client's retries finish the job, and a failed transaction leaves no trace.
// FAULT_CALCS (default 2,000; `npm run test:faults` uses 5,000) sets the calculations per scenario.
// (d) the database restarting during an upload is in faults-upload.test.ts, (e) a runner killed
// holding leases in runner-killed.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QfClient, QfApiError } from '../../shared/client.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { calc } from '../support/payloads.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser } from '../support/users.ts';
import { alive, killPostmaster } from './postmaster.ts';

const CALCS = Number(process.env.FAULT_CALCS ?? 2000);
const CLIENTS = 4;
const CHUNK = 25;
const SMILES = ['O', 'C', 'CCO'] as const;

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
}, 180_000);

afterAll(async () => {
  await sql?.end({ timeout: 5 }).catch(() => {});
  await stack?.destroy();
}, 60_000);

const user = () => createUser(sql, stack.jwtSecret);

/** Calculation `i` of a run: distinct identity per i (the geometry moves with the seed). */
function item(run: number, i: number): IngestCalculationInput {
  return calc({ smiles: SMILES[i % 3], seed: run * 100_000 + i });
}

interface StreamResult {
  acked: Map<number, string>;
  retries: { status: number | null; error: string }[];
  failures: string[];
}

/**
 * 4 clients share `n` calculations in chunks of 25, each chunk through the typed client (which
 * retries 503s and network errors). `fault` runs once a quarter of the items are acknowledged.
 */
async function ingestStream(token: string, run: number, n: number, fault: () => Promise<void>): Promise<StreamResult & { ackedAtFault: number }> {
  const out: StreamResult = { acked: new Map(), retries: [], failures: [] };
  const client = new QfClient(nodeSupabase(stack.url, token), {
    attempts: 10,
    backoffMs: 100,
    onRetry: (r) => out.retries.push({ status: r.status, error: r.error }),
  });
  let next = 0;
  let ackedAtFault = -1;
  let faultDone: Promise<void> | undefined;
  const worker = async () => {
    for (;;) {
      const start = next;
      if (start >= n || aborted.reason) return;
      next += CHUNK;
      const indices = Array.from({ length: Math.min(CHUNK, n - start) }, (_, k) => start + k);
      try {
        const results = await client.ingest(indices.map((i) => item(run, i)));
        results.forEach((r, k) => {
          if (r.outcome === 'rejected' || !r.calculation_id) out.failures.push(`item ${indices[k]} rejected: ${JSON.stringify(r.errors)}`);
          else out.acked.set(indices[k], r.calculation_id);
        });
      } catch (err) {
        const status = err instanceof QfApiError ? err.status : 'thrown';
        out.failures.push(`chunk at ${start}: ${status} ${(err as Error).message}`);
      }
      if (!faultDone && out.acked.size >= n / 4) {
        ackedAtFault = out.acked.size;
        faultDone = fault();
      }
    }
  };
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the clients hung')), 120_000).unref());
  await Promise.race([Promise.all(Array.from({ length: CLIENTS }, worker)), deadline]);
  await faultDone;
  return { ...out, ackedAtFault };
}

/** Every acknowledged calculation is stored exactly once, with its atoms and one creation event. */
async function checkStored(userId: string, n: number, res: StreamResult) {
  expect(res.failures).toEqual([]);
  expect(res.acked.size).toBe(n);
  const rows = await sql<{ id: string }[]>`select id from public.calculations where user_id = ${userId}`;
  const stored = new Set(rows.map((r) => r.id));
  expect(rows.length, 'calculations stored for the user').toBe(n);
  const ackedIds = new Set(res.acked.values());
  expect(ackedIds.size, 'distinct acknowledged calculation ids').toBe(n);
  for (const id of ackedIds) if (!stored.has(id)) throw new Error(`acknowledged ${id} is not stored`);
  const [atoms] = await sql`select count(*)::int as n from public.atomic_properties where user_id = ${userId}`;
  // 3, 5 and 9 atoms for O, C and CCO.
  const expectedAtoms = Array.from({ length: n }, (_, i) => [3, 5, 9][i % 3]).reduce((a, b) => a + b, 0);
  expect(atoms.n, 'atoms').toBe(expectedAtoms);
  const [events] = await sql`
    select count(*)::int as n, count(distinct entity_id)::int as distinct_n from public.event_logs
     where user_id = ${userId} and entity_type = 'calculation' and event_type = 'calculation_completed'`;
  expect(events, 'one creation event per calculation').toEqual({ n, distinct_n: n });
  const [mols] = await sql`select count(*)::int as n from public.molecules where user_id = ${userId}`;
  expect(mols.n).toBe(3);
}

async function healthStatus(): Promise<number> {
  const res = await fetch(`${stack.url}/functions/v1/health`, { headers: { authorization: `Bearer ${stack.anonKey}` } }).catch(() => undefined);
  return res?.status ?? 0;
}

/** Set when a fault leaves the stack unable to finish: the clients stop instead of hanging. */
const aborted: { reason?: string } = {};

describe('(c) a statement fails mid-transaction', () => {
  async function counts(userId: string) {
    const [row] = await sql`
      select (select count(*) from public.molecules where user_id = ${userId})::int as molecules,
             (select count(*) from public.calculations where user_id = ${userId})::int as calculations,
             (select count(*) from public.atomic_properties where user_id = ${userId})::int as atoms,
             (select count(*) from public.event_logs where user_id = ${userId})::int as events`;
    return { ...row };
  }

  async function ingest(token: string, body: unknown) {
    const res = await fetch(`${stack.url}/functions/v1/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.json() };
  }

  // New molecules (never seen by this user) so a partial write would leave orphans to find.
  const batch = (run: number) => ({ calculations: [0, 1, 2, 3, 4, 5].map((i) => item(run, i)) });

  it.each([
    ['lock_not_available (55P03) raised by a trigger on atomic_properties', 'raise exception \'forced\' using errcode = \'55P03\';', 10, 503, 'database_unavailable'],
    // A statement timeout is the query's own: 504, which clients do not retry as is.
    ['query_canceled (57014) raised by a trigger on atomic_properties', 'raise exception \'forced\' using errcode = \'57014\';', 11, 504, 'query_timeout'],
  ] as const)('%s: 503 or 504 as the row says, and a full rollback', async (_name, body, run, status, code) => {
    const u = await user();
    const before = await counts(u.id);
    await sql.unsafe(`
      create or replace function public.reliability_fault() returns trigger language plpgsql as $$
      begin ${body} end $$;
      create trigger reliability_fault after insert on public.atomic_properties
        for each statement execute function public.reliability_fault();`);
    try {
      const res = await ingest(u.token, batch(run));
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await counts(u.id)).toEqual(before);
    } finally {
      await sql.unsafe('drop trigger if exists reliability_fault on public.atomic_properties; drop function if exists public.reliability_fault();');
    }
    // The same request succeeds once the fault is gone: the client may retry it as is.
    const again = await ingest(u.token, batch(run));
    expect(again.status).toBe(200);
    expect(again.body.counts.created).toBe(6);
  });

  it('a real lock timeout inside the ingest transaction → 503 and a full rollback', async () => {
    const u = await user();
    const before = await counts(u.id);
    await sql.unsafe(`
      create table if not exists public.reliability_lock (id int);
      grant all on public.reliability_lock to qf_api, service_role;
      create or replace function public.reliability_fault() returns trigger language plpgsql as $$
      begin
        set local lock_timeout = '200ms';
        lock table public.reliability_lock in access exclusive mode;
        return null;
      end $$;
      create trigger reliability_fault after insert on public.atomic_properties
        for each statement execute function public.reliability_fault();`);
    try {
      // Another session holds the lock for as long as the request runs.
      await sql.begin(async (tx) => {
        await tx`lock table public.reliability_lock in access exclusive mode`;
        const res = await ingest(u.token, batch(12));
        expect(res.status, JSON.stringify(res.body)).toBe(503);
      });
      expect(await counts(u.id)).toEqual(before);
    } finally {
      await sql.unsafe(`
        drop trigger if exists reliability_fault on public.atomic_properties; drop function if exists public.reliability_fault();
        drop table if exists public.reliability_lock;`);
    }
  });

  it('a statement_timeout inside the ingest transaction → 504 query_timeout and a full rollback', async () => {
    const u = await user();
    const before = await counts(u.id);
    // The trigger sleeps 5 s, past the 1 s statement_timeout the functions are started with here.
    await sql.unsafe(`
      create or replace function public.reliability_fault() returns trigger language plpgsql as $$
      begin
        perform pg_sleep(0.05) from generate_series(1, 100);
        return null;
      end $$;
      create trigger reliability_fault after insert on public.atomic_properties
        for each statement execute function public.reliability_fault();`);
    try {
      // withCaller sets statement_timeout per transaction (DB_STATEMENT_TIMEOUT_MS); a private Deno
      // with a short one is the faithful way to make the ingest statement time out.
      const previous = process.env.DB_STATEMENT_TIMEOUT_MS;
      process.env.DB_STATEMENT_TIMEOUT_MS = '1000';
      await stack.functions.restart();
      if (previous === undefined) delete process.env.DB_STATEMENT_TIMEOUT_MS;
      else process.env.DB_STATEMENT_TIMEOUT_MS = previous;
      const res = await ingest(u.token, batch(13));
      expect(res.status, JSON.stringify(res.body)).toBe(504);
      expect(res.body.error.code).toBe('query_timeout');
      expect(await counts(u.id)).toEqual(before);
    } finally {
      await sql.unsafe(`
        drop trigger if exists reliability_fault on public.atomic_properties; drop function if exists public.reliability_fault();`);
      await stack.functions.restart();
    }
  }, 120_000);
});

// Last: if the functions process does not survive the database's death, it is left dead.
describe(`faults during an ingest stream of ${CALCS} calculations by ${CLIENTS} clients`, () => {
  it('(b) the Deno process is SIGKILLed and restarted: the same guarantees', async () => {
    const u = await user();
    const denoPid = stack.functions.pid();
    const res = await ingestStream(u.token, 2, CALCS, async () => {
      await stack.functions.restart();
    });
    expect(res.ackedAtFault).toBeLessThan(CALCS);
    expect(stack.functions.pid()).not.toBe(denoPid);
    const statuses = new Set(res.retries.map((r) => r.status));
    for (const s of statuses) expect([503, null]).toContain(s);
    expect(res.retries.length).toBeGreaterThan(0);
    await checkStored(u.id, CALCS, res);
    if (process.env.FAULT_REPORT) console.log('(b)', { acked: res.acked.size, ackedAtFault: res.ackedAtFault, retries: res.retries.length, statuses: [...statuses] });
  }, 300_000);
  it('(a) the postmaster is SIGKILLed and restarted: nothing acknowledged lost or doubled, no 500, Deno not restarted', async () => {
    const u = await user();
    const denoPid = stack.functions.pid();
    const timeline: string[] = [];
    const res = await ingestStream(u.token, 1, CALCS, async () => {
      timeline.push(...await killPostmaster(stack, async () => `health while down: ${await healthStatus()}`));
      await sleep(3000);
      if (!alive(denoPid)) {
        timeline.push('the Deno functions process died');
        aborted.reason = `the Deno functions process (pid ${denoPid}) died when the postmaster was killed`;
      }
    });
    expect(aborted.reason, timeline.join('; ')).toBeUndefined();
    expect(res.ackedAtFault).toBeGreaterThan(0);
    expect(res.ackedAtFault).toBeLessThan(CALCS);
    // The clients saw the outage as 503s or lost connections, never anything else.
    expect(res.retries.length, timeline.join('; ')).toBeGreaterThan(0);
    const statuses = new Set(res.retries.map((r) => r.status));
    for (const s of statuses) expect([503, null]).toContain(s);
    await checkStored(u.id, CALCS, res);
    expect(stack.functions.pid()).toBe(denoPid);
    expect(await healthStatus()).toBe(200);
    if (process.env.FAULT_REPORT) console.log('(a)', { acked: res.acked.size, ackedAtFault: res.ackedAtFault, retries: res.retries.length, statuses: [...statuses], timeline });
  }, 300_000);

});
