// Failures with the real xtb, as the batches record them: a 1-iteration SCF (batch xtb_args) is
// scf_not_converged and retried up to max_attempts; `--cycles 1` is opt_not_converged; a 0.01 s
// --timeout is timeout; atoms on top of each other are invalid_input, never retried. xtb_args
// outside the whitelist are refused when the batch is created.
import { beforeAll, expect, it } from 'vitest';
import { QfApiError } from '../../shared/client.ts';
import { createBatch } from '../../shared/client-batches.ts';
import { batchEvents, countersAndCounts, itemStates, type ItemState } from '../batches/batch-helpers.ts';
import type { ChildRun } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { GEOMETRIES } from '../support/payloads.ts';
import { newUser, userEnv } from '../support/users.ts';
import { describeWithXtb, itemLines, runRunner } from './helpers.ts';

const ethanol = { smiles: 'CCO', name: 'ethanol', geometry: GEOMETRIES.CCO };

describeWithXtb('failures with the real xtb', () => {
  const ids = { scf: '', opt: '', invalid: '', timeout: '' };
  let run: ChildRun;
  let timeoutRun: ChildRun;
  const states: Record<string, ItemState[]> = {};

  beforeAll(async () => {
    const [a, b] = [await newUser(), await newUser()];
    const ca = clientFor(a.token);
    ids.scf = (await createBatch(ca, { name: 'scf 1 iteration', xtb_args: ['--iterations', '1'], max_attempts: 2, items: [ethanol] })).batch.id;
    ids.opt = (await createBatch(ca, { name: 'opt 1 cycle', task: 'opt', xtb_args: ['--cycles', 1], max_attempts: 1, items: [ethanol] })).batch.id;
    ids.invalid = (await createBatch(ca, {
      name: 'atoms on top of each other', max_attempts: 3,
      items: [{ smiles: 'O', geometry: [{ element: 'O', xyz: [0, 0, 0] }, { element: 'H', xyz: [0, 0, 0] }, { element: 'H', xyz: [0, 0, 0.9] }] }],
    })).batch.id;
    ids.timeout = (await createBatch(clientFor(b.token), { name: 'timeout', max_attempts: 2, items: [ethanol] })).batch.id;
    // Two users, two runners side by side: neither can claim the other's items.
    [run, timeoutRun] = await Promise.all([
      runRunner(['--once', '--concurrency', '2', '--runner-id', 'failures'], userEnv(a.token)),
      runRunner(['--once', '--concurrency', '1', '--runner-id', 'impatient', '--timeout', '0.01'], userEnv(b.token)),
    ]);
    for (const [k, id] of Object.entries(ids)) states[k] = await itemStates(id);
  }, 240_000);

  const history = (k: string) => states[k][0].attempt_history.map((h) => [h.attempt, h.outcome]);

  it('both runners exit 0 and log every attempt', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(timeoutRun.code, timeoutRun.stderr).toBe(0);
    expect(itemLines(run)).toHaveLength(4);
    expect(itemLines(timeoutRun)).toHaveLength(2);
    expect(run.stdout).toMatch(/^failures: 1 went back to pending for another attempt, 3 failed for good$/m);
  });

  it('a 1-iteration SCF: scf_not_converged with xtb\'s message, retried until max_attempts (2), then failed', async () => {
    expect(states.scf[0].status).toBe('failed');
    expect(states.scf[0].attempts).toBe(2);
    expect(history('scf')).toEqual([[1, 'scf_not_converged'], [2, 'scf_not_converged']]);
    expect(states.scf[0].attempt_history[0].error).toBe('scf: Self consistent charge iterator did not converge');
    expect(itemLines(run).filter((l) => l.includes('scf_not_converged'))).toEqual([
      expect.stringMatching(/ethanol\) GFN2-xTB\/sp: scf_not_converged \(will be retried\)/),
      expect.stringMatching(/ethanol\) GFN2-xTB\/sp attempt 2\/2: scf_not_converged \(failed for good\)/),
    ]);
    expect(await batchEvents(ids.scf)).toEqual(['batch_created', 'batch_started', 'batch_failed']);
  });

  it('an optimisation with --cycles 1: opt_not_converged', () => {
    expect(states.opt[0].status).toBe('failed');
    expect(history('opt')).toEqual([[1, 'opt_not_converged']]);
    expect(states.opt[0].attempt_history[0].error).toMatch(/FAILED TO CONVERGE/);
  });

  it('a 0.01 s timeout: timeout, on every attempt', () => {
    expect(states.timeout[0].status).toBe('failed');
    expect(history('timeout')).toEqual([[1, 'timeout'], [2, 'timeout']]);
    expect(states.timeout[0].attempt_history[0].error).toBe('xtb ran past the time limit of 0.01 s and was killed');
  });

  it('an input xtb refuses: invalid_input, not retried although 3 attempts were allowed', () => {
    expect(states.invalid[0].status).toBe('failed');
    expect(history('invalid')).toEqual([[1, 'invalid_input']]);
    expect(states.invalid[0].attempt_history[0].error).toMatch(/^xtb rejected the input: .*short distance/);
  });

  it('keeps the counters equal to the items', async () => {
    for (const id of Object.values(ids)) {
      const { counters, counted } = await countersAndCounts(id);
      expect(counters).toEqual(counted);
      expect(counted.failed_items).toBe(1);
    }
  });

  it('refuses xtb_args outside the whitelist when the batch is created', async () => {
    const client = clientFor((await newUser()).token);
    for (const xtb_args of [['--gfn', '1'], ['--iterations', 'many'], ['--namespace', 'x']]) {
      const err = await createBatch(client, { name: 'bad args', xtb_args, items: [ethanol] }).catch((e) => e);
      expect(err, JSON.stringify(xtb_args)).toBeInstanceOf(QfApiError);
      expect(err.status).toBe(422);
    }
  });
});
