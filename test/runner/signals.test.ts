// Stopping a runner. SIGTERM mid-batch: it claims nothing more, finishes and reports what it holds,
// exits 0, and another runner finishes the rest (no attempt lost to an expired lease). A second
// SIGTERM kills xtb at once (exit 130), the whole process group with it.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createBatch } from '../../shared/client-batches.ts';
import { itemStates } from '../batches/batch-helpers.ts';
import { finished } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { batchItem, GEOMETRIES } from '../support/payloads.ts';
import { newUser, userEnv } from '../support/users.ts';
import {
  describeWithXtb, itemLines, runRunner, spawnRunner, waitFor, writeSleepingXtb,
} from './helpers.ts';

describeWithXtb('stopping a runner', () => {
  it('SIGTERM mid-batch: exits 0 after reporting its items; another runner finishes the rest', async () => {
    const user = await newUser();
    const batch = (await createBatch(clientFor(user.token), { name: 'sigterm', items: Array.from({ length: 12 }, (_, i) => batchItem(i)) })).batch.id;
    // Polling mode (no --once): the way a runner is left running.
    const child = spawnRunner(['--concurrency', '1', '--runner-id', 'terminated'], userEnv(user.token));
    const first = finished(child);
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    await waitFor(() => out.includes('\nitem ') || out.startsWith('item '), 'the first item line');
    child.kill('SIGTERM');
    const a = await first;
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/SIGTERM: claiming nothing more/);
    expect(a.stdout).toMatch(/stopped by a signal/);
    const done = itemLines(a).length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(12);

    const b = await runRunner(['--once', '--runner-id', 'finisher'], userEnv(user.token));
    expect(b.code, b.stderr).toBe(0);
    expect(itemLines(b)).toHaveLength(12 - done);
    const states = await itemStates(batch);
    for (const s of states) {
      expect(s.status).toBe('completed');
      expect(s.attempt_history.map((h) => h.outcome)).toEqual(['completed']);
    }
    const by = (runner: string) => states.filter((s) => s.attempt_history[0].runner === runner).length;
    expect([by('terminated'), by('finisher')]).toEqual([done, 12 - done]);
  });

  it('a second SIGTERM kills xtb and its process group at once: exit 130, the item left to its lease', async () => {
    const user = await newUser();
    const batch = (await createBatch(clientFor(user.token), { name: 'sigterm twice', items: [{ smiles: 'O', geometry: GEOMETRIES.O }] })).batch.id;
    // A stand-in for xtb that answers --version and otherwise sleeps, with a child of its own.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-runner-fake-xtb-'));
    const fake = path.join(dir, 'xtb');
    const pids = path.join(dir, 'pids');
    await writeSleepingXtb(fake, pids, 120);

    const child = spawnRunner(['--once', '--xtb', fake, '--runner-id', 'killed'], userEnv(user.token));
    const run = finished(child);
    await waitFor(() => existsSync(pids), 'the fake xtb to start');
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const r = await run;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGTERM again: killing xtb/);
    expect(r.stdout).toMatch(/stopped hard/);
    for (const pid of (await readFile(pids, 'utf8')).trim().split(' ').map(Number)) {
      await waitFor(() => !existsSync(`/proc/${pid}`) || /\) Z /.test(readProcStat(pid)), `pid ${pid} to end`, 5000);
    }
    const [s] = await itemStates(batch);
    expect(s.status).toBe('claimed');
    expect(s.claimed_by).toBe('killed');
    await rm(dir, { recursive: true, force: true });
  });
});

/** /proc/PID/stat, or a zombie's line once the process is gone. */
function readProcStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return ') Z ';
  }
}
