// Reads that scale out: with SUPABASE_DB_READ_URL set, the query function and the datasets GET
// routes (release downloads) read from a real streaming replica (a base backup of the test's
// primary, scripts/stack/replica.ts) and ingest and release making write to the primary. Replay paused on the replica makes the difference visible: a row just
// written is on the primary and absent from /query until replay resumes.
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctions, type RunningFunctions } from '../../scripts/stack/functions.ts';
import { LOCAL_AUTH_ISSUER } from '../../scripts/stack/keys.ts';
import type { RunningPostgres } from '../../scripts/stack/postgres.ts';
import { startReplica } from '../../scripts/stack/replica.ts';
import { calc } from '../support/payloads.ts';
import { freePort, startTestStack, type TestStack } from '../support/stack.ts';
import { createUser, type TestUser } from '../support/users.ts';

// The replica is a copy of the embedded server's data directory: no such copy of TEST_DB_URL.
const external = Boolean(process.env.TEST_DB_URL);

let stack: TestStack;
let replica: RunningPostgres;
let functions: RunningFunctions;
let primarySql: postgres.Sql;
let replicaSql: postgres.Sql;
let user: TestUser;

beforeAll(async () => {
  if (external) return;
  stack = await startTestStack();
  primarySql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  user = await createUser(primarySql, stack.jwtSecret);
  replica = await startReplica({ primary: stack.postgres!, dataDir: path.join(stack.dataDir, 'replica'), port: await freePort() });
  replicaSql = postgres(replica.url, { max: 2, onnotice: () => {} });
  functions = await startFunctions({
    port: await freePort(),
    env: {
      SUPABASE_DB_URL: stack.dbUrl,
      SUPABASE_DB_READ_URL: replica.url,
      SUPABASE_JWT_SECRET: stack.jwtSecret,
      AUTH_ISSUER: LOCAL_AUTH_ISSUER,
    },
  });
}, 180_000);

afterAll(async () => {
  await functions?.stop();
  await replicaSql?.end();
  await primarySql?.end();
  await replica?.stop();
  await stack?.destroy();
});

async function call(route: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${functions.url}/functions/v1/${route}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: await res.json() as any };
}

/** Waits until the replica has replayed everything the primary has written so far. */
async function caughtUp(): Promise<void> {
  const [{ lsn }] = await primarySql`select pg_current_wal_lsn()::text as lsn`;
  for (let i = 0; i < 200; i++) {
    const [{ done }] = await replicaSql`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`;
    if (done) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the replica did not replay up to ${lsn} within 10 s`);
}

describe.skipIf(external)('read replica (SUPABASE_DB_READ_URL)', () => {
  it('is a streaming hot standby of the primary', async () => {
    const [standby] = await replicaSql`select pg_is_in_recovery() as recovery`;
    expect(standby.recovery).toBe(true);
    const senders = await primarySql`select application_name, state from pg_stat_replication`;
    expect(senders).toEqual([{ application_name: 'qf-replica', state: 'streaming' }]);
  });

  it('sends /query reads to the replica and ingest writes to the primary', async () => {
    const first = await call('ingest', { body: { calculations: [calc({ seed: 1 })] } });
    expect(first.status).toBe(200);
    await caughtUp();
    const before = await call('query/calculations');
    expect(before.status).toBe(200);
    expect(before.body.data.map((r: any) => r.id)).toEqual([first.body.results[0].calculation_id]);

    await replicaSql`select pg_wal_replay_pause()`;
    try {
      // A write while replay is paused: it succeeds, so it went to the primary (the standby refuses
      // every write), and the primary has the row at once.
      const second = await call('ingest', { body: { calculations: [calc({ seed: 2 })] } });
      expect(second.status).toBe(200);
      const newId = second.body.results[0].calculation_id;
      const onPrimary = await primarySql`select 1 from public.calculations where id = ${newId}`;
      expect(onPrimary).toHaveLength(1);

      // The read does not see it: it ran on the paused replica. Its connection is the read pool's.
      const during = await call('query/calculations');
      expect(during.status).toBe(200);
      expect(during.body.data.map((r: any) => r.id)).toEqual([first.body.results[0].calculation_id]);
      const stats = await call('query/stats');
      expect(stats.body.stats.calculations_total).toBe(1);
      const readers = await replicaSql`
        select count(*)::int as n from pg_stat_activity where application_name = 'quantum-forge-functions-read'`;
      expect(readers[0].n).toBeGreaterThan(0);
      const writersOnReplica = await replicaSql`
        select count(*)::int as n from pg_stat_activity where application_name = 'quantum-forge-functions'`;
      expect(writersOnReplica[0].n).toBe(0);

      await replicaSql`select pg_wal_replay_resume()`;
      await caughtUp();
      const after = await call('query/calculations');
      expect(new Set(after.body.data.map((r: any) => r.id))).toEqual(new Set([first.body.results[0].calculation_id, newId]));
      expect((await call('query/stats')).body.stats.calculations_total).toBe(2);
    } finally {
      await replicaSql`select pg_wal_replay_resume()`.catch(() => {});
    }
  });

  it('sends release downloads (the datasets GET routes) to the replica and making a release to the primary', async () => {
    const dataset = await call('datasets', { body: { name: 'replica' } });
    expect(dataset.status, JSON.stringify(dataset.body)).toBe(201);
    const id = dataset.body.id;
    const release = (v: number) => call(`datasets/${id}/releases`, { body: { license: 'CC0-1.0', authors: ['A. Tester'], filters: {} } })
      .then((r) => {
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        expect(r.body.release.version).toBe(v);
        return r.body;
      });
    const first = await release(1);
    await caughtUp();
    expect((await call(`datasets/${id}/releases/1`)).body).toEqual(first);

    await replicaSql`select pg_wal_replay_pause()`;
    try {
      // Making release 2 writes: it succeeds while replay is paused, so it ran on the primary.
      await release(2);
      // The reads ran on the paused replica: release 1 downloads, release 2 is not there yet.
      const [manifest, missing, listed] = await Promise.all([
        call(`datasets/${id}/releases/1`), call(`datasets/${id}/releases/2`), call('datasets')]);
      expect(manifest.status).toBe(200);
      expect(missing.status).toBe(404);
      expect(listed.body.data.find((d: any) => d.id === id).releases.map((r: any) => r.version)).toEqual([1]);
      const part = await fetch(`${functions.url}/functions/v1/datasets/${id}/releases/1/export?format=ndjson`,
        { headers: { authorization: `Bearer ${user.token}` } });
      expect(part.status).toBe(200);
      expect(part.headers.get('etag')).toBe(`"${first.release.content_sha256}"`);
      await part.arrayBuffer();

      await replicaSql`select pg_wal_replay_resume()`;
      await caughtUp();
      expect((await call(`datasets/${id}/releases/2`)).status).toBe(200);
    } finally {
      await replicaSql`select pg_wal_replay_resume()`.catch(() => {});
    }
  });

  it('refuses a write on the replica: it is read-only', async () => {
    await expect(replicaSql`insert into auth.users (id, email) values (gen_random_uuid(), 'x@test.local')`)
      .rejects.toThrow(/read-only transaction/);
  });
});
