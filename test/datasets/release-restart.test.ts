// A release exports the same bytes after the whole stack restarts (PostgreSQL and Deno, on the
// same data directory): nothing in the bytes depends on the process, the session or the time.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { newJwtSecret } from '../../scripts/stack/keys.ts';
import { startStack, type Stack, type StackOptions } from '../../scripts/stack/stack.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { QfClient } from '../../shared/client.ts';
import { calcOf } from '../support/payloads.ts';
import { freePort } from '../support/stack.ts';
import { createUser } from '../support/users.ts';

let stack: Stack | undefined;
let dir: string | undefined;

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function exportAll(s: Stack, token: string, datasetId: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const params of ['format=ndjson', 'format=extxyz', 'format=csv', 'format=extxyz&profile=mace']) {
    const res = await fetch(`${s.url}/functions/v1/datasets/${datasetId}/releases/1/export?${params}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    out[params] = Buffer.from(await res.arrayBuffer());
  }
  return out;
}

describe('a release across a restart', () => {
  it('exports byte-identical files before and after the stack restarts', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'qf-release-restart-'));
    await chmod(dir, 0o755);
    const opts: StackOptions = {
      dataDir: path.join(dir, 'data'), dbPort: await freePort(), functionsPort: await freePort(), jwtSecret: newJwtSecret(),
    };
    stack = await startStack(opts);
    const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
    const { token } = await createUser(sql, opts.jwtSecret);
    await sql.end();
    const post = async (route: string, body: unknown) => {
      const res = await fetch(`${stack!.url}/functions/v1/${route}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const json = await res.json();
      expect(res.status, JSON.stringify(json)).toBeLessThan(300);
      return json;
    };
    // The typed client, which sends again what the first request's RDKit budget deferred (a fresh
    // Deno loads RDKit inside that budget, and a busy machine can spend it on the first molecule).
    const ingested = await new QfClient(nodeSupabase(stack.url, token)).ingest(
      [await calcOf('CCO', { withGradient: true }), await calcOf('[NH4+]', { charge: 1 }), await calcOf('C[CH2]', { multiplicity: 2 })]);
    expect(ingested.map((r) => r.outcome)).toEqual(['created', 'created', 'created']);
    const dataset = await post('datasets', { name: 'restart' });
    const made = await post(`datasets/${dataset.id}/releases`, { license: 'MIT', authors: ['R'], filters: {} });
    expect(made.manifest.counts.calculations).toBe(3);
    const before = await exportAll(stack, token, dataset.id);

    await stack.stop();
    stack = undefined;
    stack = await startStack(opts);
    const after = await exportAll(stack, token, dataset.id);
    for (const params of Object.keys(before)) expect(after[params].equals(before[params]), params).toBe(true);
    expect(createHash('sha256').update(after['format=ndjson']).digest('hex')).toBe(made.manifest.content.sha256);
  }, 300_000);
});
