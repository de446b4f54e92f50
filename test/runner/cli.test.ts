// The runner's command line as a user meets it: exit 2 with a one-line reason for bad arguments,
// a missing xtb, no key, a server it cannot reach or a batch it cannot see; and a lease lost
// while xtb runs (the batch is cancelled): xtb is killed and the runner moves on.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancel, createBatch } from '../../shared/client-batches.ts';
import { itemStates } from '../batches/batch-helpers.ts';
import { finished } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { GEOMETRIES } from '../support/payloads.ts';
import { newUser, serviceEnv, userEnv } from '../support/users.ts';
import { itemLines, runRunner, spawnRunner } from './helpers.ts';

const USAGE_LINE = /^usage: npm run runner -- \[--batch ID\]/m;
const stderrLines = (s: string) => s.split('\n').filter((l) => l && !/Node\.js 20/.test(l));

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A stand-in xtb that only answers --version (and sleeps otherwise), so these checks need no real xtb. */
async function fakeXtb(): Promise<{ path: string; pidFile: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-runner-fake-xtb-'));
  dirs.push(dir);
  const file = path.join(dir, 'xtb');
  const pidFile = path.join(dir, 'pid');
  await writeFile(file, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "   * xtb version 6.5.1 (fake)"; exit 0; fi\necho $$ > ${pidFile}\nexec sleep 120\n`);
  await chmod(file, 0o755);
  return { path: file, pidFile };
}

// Independent child processes: run side by side.
describe.concurrent('exit 2 before any work', () => {
  let xtb: string;
  beforeAll(async () => {
    xtb = (await fakeXtb()).path;
  });

  // Every argument check is in loop.test.ts; this is how one reaches the user.
  it('a bad argument: the reason on one line, then the usage', async () => {
    const r = await runRunner(['--batch', 'nope'], serviceEnv());
    expect(r.code).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines[0]).toBe('runner: --batch must be a batch id (a UUID), not "nope"');
    expect(lines[1]).toMatch(USAGE_LINE);
    expect(r.stdout).toBe('');
  });

  it('a server that does not answer', async () => {
    const r = await runRunner(['--once', '--xtb', xtb], { ...serviceEnv(), SUPABASE_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(2);
    // Says what is wrong in a user's words (not supabase-js' "Failed to send a request") and what to do.
    expect(r.stderr).toMatch(/^runner: the stack is not reachable at http:\/\/127\.0\.0\.1:9: start it with `npm start`/m);
    expect(r.stderr).not.toMatch(/Failed to send a request/);
  });

  it('a batch the token\'s user cannot see', async () => {
    const [owner, other] = [await newUser(), await newUser()];
    const batch = (await createBatch(clientFor(owner.token), { name: 'not yours', items: [{ smiles: 'O', geometry: GEOMETRIES.O }] })).batch.id;
    const r = await runRunner(['--once', '--batch', batch, '--xtb', xtb], userEnv(other.token));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runner: claim refused \(HTTP 404\)/m);
    expect((await itemStates(batch))[0].status).toBe('pending');
  });

  it('no xtb program', async () => {
    const r = await runRunner(['--once', '--xtb', '/nonexistent/xtb'], serviceEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runner: xtb not found \(\/nonexistent\/xtb: .*ENOENT.*\): install xtb/m);
  });
});

// With the stand-in xtb, which sleeps until it is killed.
describe('a lease lost while xtb runs', () => {
  it('the batch is cancelled: the heartbeat says so, xtb is killed, the runner reports nothing for it and moves on', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const batch = (await createBatch(client, { name: 'cancelled under the runner', items: [{ smiles: 'O', geometry: GEOMETRIES.O }] })).batch.id;
    const { path: fake, pidFile } = await fakeXtb();

    const child = spawnRunner(['--once', '--xtb', fake, '--runner-id', 'cancelled'], { ...userEnv(user.token), QF_RUNNER_HEARTBEAT_MS: '200' });
    const run = finished(child);
    const until = Date.now() + 60_000;
    while (!existsSync(pidFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await cancel(client, batch);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(itemLines(r)).toEqual([expect.stringMatching(/: lost: the server says it is no longer held \(batch_cancelled\) in \d/)]);
    expect(existsSync(`/proc/${pid}`) && !/\) Z /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ') Z '))).toBe(false);
    expect((await itemStates(batch))[0].status).toBe('cancelled');
  });
});
