// The runner's logic with stand-ins for xtb and the server: failure classes from real xtb logs
// (fixtures), the command line, the lease keeper, and the claim loop's draining, concurrency,
// retries, stop and kill.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaimedItem, ClaimRequest, HeartbeatRequest } from '../../shared/contract/batches.ts';
import { classifyXtbFailure } from '../../shared/xtb/classify-failure.ts';
import { parseJobFiles, parseXtbOut, parseXtbRun, type JobFiles } from '../../shared/xtb/index.ts';
import { parseRunnerArgs, UsageError } from '../../scripts/runner/args.ts';
import { runLoop } from '../../scripts/runner/claim-loop.ts';
import { resolveRunnerConnection } from '../../scripts/runner/connection.ts';
import { LeaseKeeper } from '../../scripts/runner/heartbeat.ts';
import type { BatchesApi } from '../../scripts/runner/report.ts';
import { NO_TIMES, type ItemRun, type RunItemOptions } from '../../scripts/runner/run-item.ts';
import { Tally, type ItemReport } from '../../scripts/runner/summary.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

function fixture(job: string): JobFiles {
  const files: JobFiles = {};
  for (const name of ['metadata.json', 'input.xyz', 'xtb.out', 'charges', 'xtbout.json'] as const) {
    try {
      files[name] = readFileSync(path.join(FIXTURES, job, name), 'utf8');
    } catch {
      // absent in this job
    }
  }
  return files;
}

describe('failure classes from real xtb logs', () => {
  const spec = { molecule: { smiles: 'O=O' }, method: 'GFN2-xTB', task: 'sp', multiplicity: 3 } as const;

  it('an SCF that gave up (exit 1): scf_not_converged with xtb\'s message', () => {
    const files = fixture('2025-04/qf-20250401-00018');
    const f = classifyXtbFailure({ task: 'sp', exitCode: 1, signal: null, timedOut: false }, parseXtbOut(files['xtb.out']!), parseXtbRun(files, spec));
    expect(f).toEqual({ error_class: 'scf_not_converged', message: 'scf: Self consistent charge iterator did not converge' });
  });

  it('a Fortran allocation failure without an xtb message: crash', () => {
    const files = fixture('2025-03/qf-20250302-00015');
    const job = parseJobFiles('x', files);
    const log = parseXtbOut(files['xtb.out']!);
    const f = classifyXtbFailure({ task: job.calculation!.task, exitCode: 1, signal: null, timedOut: false }, log, null);
    expect(f?.error_class).toBe('crash');
    expect(f?.message).toMatch(/^xtb exited with code 1: .*Cannot allocate memory/);
  });

  it('a normal run: no failure; the same run killed by a signal or a timeout: crash, timeout', () => {
    const files = fixture('2025-03/qf-20250301-00001');
    const job = parseJobFiles('x', files);
    const log = parseXtbOut(files['xtb.out']!);
    const parse = { outcome: 'completed' as const, calculation: job.calculation!, warnings: [] };
    const end = { task: job.calculation!.task, exitCode: 0, signal: null, timedOut: false };
    expect(classifyXtbFailure(end, log, parse)).toBeNull();
    expect(classifyXtbFailure({ ...end, exitCode: null, signal: 'SIGSEGV' }, log, parse)?.error_class).toBe('crash');
    expect(classifyXtbFailure({ ...end, timedOut: true, timeoutS: 5 }, log, parse)).toEqual({ error_class: 'timeout', message: 'xtb ran past the time limit of 5 s and was killed' });
  });

  it('exit 0 without usable outputs: crash', () => {
    const f = classifyXtbFailure({ task: 'sp', exitCode: 0, signal: null, timedOut: false }, null, { outcome: 'running', warnings: [], error: 'xtb has not started (no xtb.out)' });
    expect(f).toEqual({ error_class: 'crash', message: 'xtb exited 0 but its outputs are unusable: xtb has not started (no xtb.out)' });
  });
});

describe('the command line', () => {
  const d = { cores: 2, runnerId: 'host-1' };

  it('defaults: cores, host-pid, 300 s lease, 600 s timeout, polling', () => {
    expect(parseRunnerArgs([], d)).toEqual({ concurrency: 2, runnerId: 'host-1', leaseSeconds: 300, timeoutS: 600, once: false, xtb: 'xtb', obabel: 'obabel', keepRawOutput: false });
  });

  it('every flag', () => {
    const id = 'A0000000-0000-4000-8000-000000000001';
    expect(parseRunnerArgs(['--batch', id, '--concurrency', '3', '--runner-id', 'r 1', '--lease', '60', '--timeout', '0.01', '--once', '--xtb', '/opt/xtb', '--keep-raw-output'], d))
      .toEqual({ batchId: id.toLowerCase(), concurrency: 3, runnerId: 'r 1', leaseSeconds: 60, timeoutS: 0.01, once: true, xtb: '/opt/xtb', obabel: 'obabel', keepRawOutput: true });
  });

  it.each([
    [['--batch', 'x'], /--batch must be a batch id/],
    [['--concurrency', '0'], /--concurrency must be a whole number from 1 to 100/],
    [['--lease', '10'], /--lease must be a whole number from 30 to 3600/],
    [['--timeout', '0'], /--timeout must be a number of seconds above 0/],
    [['--runner-id', ' x'], /--runner-id must be/],
    [['--fast'], /Unknown option '--fast'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseRunnerArgs(argv, d)).toThrow(UsageError);
    expect(() => parseRunnerArgs(argv, d)).toThrow(message);
  });
});

describe('whose items: the connection', () => {
  const jwt = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;
  const url = 'http://127.0.0.1:54321';

  it('a user\'s token wins over the service-role key, and claims that user\'s items only', () => {
    const c = resolveRunnerConnection({ SUPABASE_URL: url, SUPABASE_ACCESS_TOKEN: jwt({ role: 'authenticated', sub: 'u1' }) }, { SUPABASE_SERVICE_ROLE_KEY: 'k' });
    expect([c.mode, c.allUsers, c.owner]).toEqual(['user', false, 'u1']);
  });

  it('the service-role key (from .local/stack.env, or as the access token) claims across users', () => {
    expect(resolveRunnerConnection({}, { SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: 'k' })).toMatchObject({ url, key: 'k', mode: 'service_role', allUsers: true });
    expect(resolveRunnerConnection({ SUPABASE_URL: url, SUPABASE_ACCESS_TOKEN: jwt({ role: 'service_role' }) }, {}).allUsers).toBe(true);
  });

  it('no URL or no key: a usage error saying what to set', () => {
    expect(() => resolveRunnerConnection({}, {})).toThrow(/no SUPABASE_URL/);
    expect(() => resolveRunnerConnection({ SUPABASE_URL: url }, {})).toThrow(/no key: set SUPABASE_ACCESS_TOKEN/);
  });
});

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const item = (n: number, attempt = 1): ClaimedItem => ({
  item_id: ID(n), batch_id: ID(0), user_id: ID(0), molecule_id: ID(0), smiles: 'O', name: null, charge: 0, multiplicity: 1,
  geometry: null, method: 'GFN2-xTB', task: 'sp', solvent: null, xtb_args: [], attempt, max_attempts: 2, lease_expires_at: '',
});
const times = { ...NO_TIMES, xtbS: 0.01, totalS: 0.01 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the lease keeper', () => {
  it('heartbeats every item held, hands lost ones to their callbacks, and survives a failed heartbeat', async () => {
    const sent: HeartbeatRequest[] = [];
    let fail = false;
    const lost: string[] = [];
    const errors: unknown[] = [];
    const keeper = new LeaseKeeper({
      heartbeat: async (req) => {
        sent.push(req);
        if (fail) throw new Error('network down');
        return { held: [{ item_id: ID(1), lease_expires_at: '' }], lost: [{ item_id: ID(2), status: 'pending', reason: 'returned_to_pending' }] };
      },
      runnerId: 'r', leaseSeconds: 30, allUsers: true, intervalMs: 60_000, onError: (e) => errors.push(e),
    });
    keeper.add(ID(1), (r) => lost.push(`1 ${r}`));
    keeper.add(ID(2), (r) => lost.push(`2 ${r}`));
    await keeper.beat();
    expect(sent[0]).toEqual({ runner_id: 'r', item_ids: [ID(1), ID(2)], lease_seconds: 30, all_users: true });
    expect(lost).toEqual(['2 returned_to_pending']);
    fail = true;
    await keeper.beat();
    expect(sent[1].item_ids).toEqual([ID(1)]);
    expect(errors).toHaveLength(1);
    keeper.stop();
  });
});

/** A server in memory: a queue of items, failures go back to the queue while attempts remain. */
function fakeServer(n: number) {
  const queue = Array.from({ length: n }, (_, i) => item(i + 1));
  const claims: ClaimRequest[] = [];
  const completed: string[] = [];
  const failed: string[] = [];
  const api: BatchesApi = {
    claim: async (req) => {
      claims.push(req);
      await sleep(1);
      return { runner_id: req.runner_id, items: queue.splice(0, req.limit ?? 10) };
    },
    heartbeat: async () => ({ held: [], lost: [] }),
    complete: async (req) => {
      completed.push(req.item_id);
      return { item_id: req.item_id, status: 'completed', calculation_id: ID(99), molecule_id: ID(98), outcome: 'created', already_completed: false };
    },
    fail: async (req) => {
      failed.push(req.item_id);
      const it = item(Number(req.item_id.slice(-12)));
      const attempts = failed.filter((f) => f === req.item_id).length;
      if (attempts < it.max_attempts) queue.push(item(Number(req.item_id.slice(-12)), attempts + 1));
      return { item_id: req.item_id, status: attempts < it.max_attempts ? 'pending' : 'failed', attempts, max_attempts: it.max_attempts, already_recorded: false };
    },
  };
  return { api, queue, claims, completed, failed };
}

function loop(api: BatchesApi, run: (it: ClaimedItem, opts: RunItemOptions) => Promise<ItemRun>, extra: { concurrency?: number; once?: boolean; stop?: AbortSignal; kill?: AbortSignal } = {}) {
  const reports: ItemReport[] = [];
  const tally = new Tally('r', extra.concurrency ?? 2);
  const done = runLoop({
    api, runnerId: 'r', allUsers: false, concurrency: extra.concurrency ?? 2, leaseSeconds: 30, once: extra.once ?? true,
    item: { xtb: 'xtb', obabel: 'obabel', timeoutS: 1 },
    stop: extra.stop ?? new AbortController().signal, kill: extra.kill ?? new AbortController().signal,
    tally, onItem: (r) => reports.push(r), onNote: () => {}, pollMs: { min: 10, max: 20 },
    runItem: run,
  });
  return { done, reports, tally };
}

describe('the claim loop', () => {
  it('--once drains everything, retries included, never running more than `concurrency` at once', async () => {
    const server = fakeServer(7);
    let now = 0;
    let peak = 0;
    const { done, reports } = loop(server.api, async (it) => {
      peak = Math.max(peak, ++now);
      await sleep(5);
      now--;
      return it.item_id === ID(3)
        ? { kind: 'failed', error_class: 'scf_not_converged', message: 'scf', times }
        : { kind: 'completed', calculation: {} as never, warnings: [], times };
    }, { concurrency: 3 });
    await done;
    expect(peak).toBe(3);
    expect(server.completed.sort()).toEqual([1, 2, 4, 5, 6, 7].map(ID));
    expect(server.failed).toEqual([ID(3), ID(3)]);
    expect(reports).toHaveLength(8);
    // Claimed ahead once items were seen to be quick, but never more than one extra per slot.
    const most = Math.max(...server.claims.map((c) => c.limit ?? 0));
    expect(most).toBeGreaterThan(3);
    expect(most).toBeLessThanOrEqual(6);
  });

  it('--once: a failure reported while a claim is in flight is claimed again, not left behind', async () => {
    const server = fakeServer(1);
    // The claim looks at the queue when it is sent and answers late; the failure is recorded
    // (its item back in the queue) meanwhile, so that claim comes back empty.
    const api: BatchesApi = {
      ...server.api,
      claim: async (req) => {
        server.claims.push(req);
        const items = server.queue.splice(0, req.limit ?? 10);
        await sleep(30);
        return { runner_id: req.runner_id, items };
      },
      fail: async (req) => {
        await sleep(5);
        return server.api.fail(req);
      },
    };
    let runs = 0;
    const { done } = loop(api, async () => (++runs === 1
      ? { kind: 'failed', error_class: 'timeout', message: 'slow', times }
      : { kind: 'completed', calculation: {} as never, warnings: [], times }), { concurrency: 1 });
    await done;
    expect(server.failed).toEqual([ID(1)]);
    expect(server.completed).toEqual([ID(1)]);
  });

  it('stop: the items claimed ahead are run too, not left to expire', async () => {
    const server = fakeServer(10);
    const stop = new AbortController();
    let calls = 0;
    const { done, reports } = loop(server.api, async () => {
      if (++calls === 2) stop.abort();
      await sleep(5);
      return { kind: 'completed', calculation: {} as never, warnings: [], times };
    }, { concurrency: 1, once: false, stop: stop.signal });
    await done;
    expect(server.claims.map((c) => c.limit)).toEqual([1, 2]);
    expect(server.completed).toEqual([1, 2, 3].map(ID));
    expect(reports).toHaveLength(3);
  });

  it('stop: claims nothing more, finishes and reports the items in hand', async () => {
    const server = fakeServer(10);
    const stop = new AbortController();
    const { done, reports } = loop(server.api, async () => {
      stop.abort();
      await sleep(20);
      return { kind: 'completed', calculation: {} as never, warnings: [], times };
    }, { concurrency: 2, once: false, stop: stop.signal });
    await done;
    expect(server.claims).toHaveLength(1);
    expect(server.completed).toHaveLength(2);
    expect(reports.map((r) => r.outcome.kind)).toEqual(['completed', 'completed']);
    expect(server.queue).toHaveLength(8);
  });

  it('kill: the items in hand are abandoned and nothing is reported for them', async () => {
    const server = fakeServer(4);
    const stop = new AbortController();
    const kill = new AbortController();
    const { done, reports } = loop(server.api, (_, opts) => new Promise<ItemRun>((resolve) => {
      stop.abort();
      opts.signal!.addEventListener('abort', () => resolve({ kind: 'abandoned', times }));
      setTimeout(() => kill.abort(), 10);
    }), { concurrency: 2, once: false, stop: stop.signal, kill: kill.signal });
    await done;
    expect(server.completed).toEqual([]);
    expect(server.failed).toEqual([]);
    expect(reports.map((r) => r.outcome.kind)).toEqual(['stopped', 'stopped']);
  });

  it('polls with backoff while there is no work, and takes work that appears', async () => {
    const server = fakeServer(0);
    const stop = new AbortController();
    const { done } = loop(server.api, async () => {
      stop.abort();
      return { kind: 'completed', calculation: {} as never, warnings: [], times };
    }, { once: false, stop: stop.signal });
    while (server.claims.length < 3) await sleep(5);
    server.queue.push(item(1));
    await done;
    expect(server.completed).toEqual([ID(1)]);
  });
});
