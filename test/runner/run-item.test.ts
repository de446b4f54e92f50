// The runner's local half with the real programs and no server: the xtb command line, one item
// through obabel, xtb and the shared parser (values equal a direct xtb run), each failure class
// from a real xtb, the fresh temporary directory, and the process-group kill on a timeout.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { parseGradient } from '../../shared/xtb/index.ts';
import { geometryFor } from '../../scripts/runner/geometry.ts';
import { runProcess } from '../../scripts/runner/process.ts';
import { runItem, type ItemRun, type RunItemOptions } from '../../scripts/runner/run-item.ts';
import { xtbArgs } from '../../scripts/runner/xtb-command.ts';
import { GEOMETRIES } from '../support/payloads.ts';
import { describeWithXtb, directXtb } from './helpers.ts';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function claimed(extra: Partial<ClaimedItem>): ClaimedItem {
  return {
    item_id: ID(1), batch_id: ID(2), user_id: ID(3), molecule_id: ID(4), smiles: 'O', name: null, charge: 0, multiplicity: 1,
    geometry: null, method: 'GFN2-xTB', task: 'sp', solvent: null, xtb_args: [], attempt: 1, max_attempts: 3,
    lease_expires_at: new Date(Date.now() + 300_000).toISOString(), ...extra,
  };
}

let tmpRoot: string;
let opts: RunItemOptions;
beforeAll(async () => {
  tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'qf-runner-test-'));
  opts = { xtb: 'xtb', obabel: 'obabel', timeoutS: 120, runnerId: 'local-test', tmpRoot };
});
afterAll(() => rm(tmpRoot, { recursive: true, force: true }));

function expectFailed(r: ItemRun, errorClass: string, message: RegExp) {
  expect(r.kind, JSON.stringify(r)).toBe('failed');
  if (r.kind !== 'failed') return;
  expect(r.error_class).toBe(errorClass);
  expect(r.message).toMatch(message);
}

it('maps an item to xtb flags: method, charge, --uhf from the multiplicity, --alpb after the input file, task, --json, then xtb_args', () => {
  expect(xtbArgs(claimed({ charge: -1, solvent: 'water', task: 'grad', xtb_args: ['--acc', '0.1'] })))
    .toEqual(['input.xyz', '--gfn', '2', '--chrg', '-1', '--uhf', '0', '--alpb', 'water', '--grad', '--json', '--acc', '0.1']);
  expect(xtbArgs(claimed({ method: 'GFN-FF', multiplicity: 2, task: 'opt' })))
    .toEqual(['input.xyz', '--gfnff', '--chrg', '0', '--uhf', '1', '--opt', '--json']);
  expect(xtbArgs(claimed({ method: 'GFN0-xTB' })).slice(1, 3)).toEqual(['--gfn', '0']);
});

describeWithXtb('one item with the real xtb', () => {
  it('water, grad, with its geometry: the energy, charges and gradient of a direct xtb run; the run directory is removed', async () => {
    const geometry = GEOMETRIES.O;
    const r = await runItem(claimed({ smiles: 'O', task: 'grad', geometry }), opts);
    expect(r.kind, JSON.stringify(r)).toBe('completed');
    if (r.kind !== 'completed') return;
    const calc = r.calculation;
    expect(calc.geometry).toEqual(geometry);
    expect(calc.batch_item_id).toBe(ID(1));
    expect(calc.source).toBe('runner:local-test');
    const direct = directXtb(geometry, ['--gfn', '2', '--grad']);
    expect(Math.abs(calc.results!.total_energy_eh - direct.energyEh)).toBeLessThan(1e-6);
    const g = parseGradient(direct.gradient!);
    expect(g.ok).toBe(true);
    if (g.ok) expect(calc.gradient).toEqual(g.value.gradient);
    expect(calc.charges).toHaveLength(3);
    expect(r.times.xtbS).toBeGreaterThan(0);
    expect(await readdir(tmpRoot)).toEqual([]);
  });

  it('acetate, charge -1 in water, geometry from obabel: xtb saw --chrg -1 --alpb water', async () => {
    const r = await runItem(claimed({ smiles: 'CC(=O)[O-]', charge: -1, solvent: 'water' }), opts);
    expect(r.kind, JSON.stringify(r)).toBe('completed');
    if (r.kind !== 'completed') return;
    expect(r.calculation.geometry).toHaveLength(7);
    expect(r.calculation.metadata!.program_call).toMatch(/xtb input\.xyz --gfn 2 --chrg -1 --uhf 0 --alpb water --json/);
    expect(r.times.geometryS).toBeGreaterThan(0);
  });

  it('GFN-FF: charges from gfnff_charges', async () => {
    const r = await runItem(claimed({ smiles: 'C', method: 'GFN-FF', geometry: GEOMETRIES.C }), opts);
    expect(r.kind, JSON.stringify(r)).toBe('completed');
    if (r.kind === 'completed') expect(r.calculation.charges).toHaveLength(5);
  });

  it('--iterations 1: scf_not_converged, with xtb\'s own message', async () => {
    const r = await runItem(claimed({ smiles: 'CCO', geometry: GEOMETRIES.CCO, xtb_args: ['--iterations', '1'] }), opts);
    expectFailed(r, 'scf_not_converged', /^scf: Self consistent charge iterator did not converge$/);
  });

  it('--opt --cycles 1: opt_not_converged although xtb exits 0', async () => {
    const r = await runItem(claimed({ smiles: 'CCO', task: 'opt', geometry: GEOMETRIES.CCO, xtb_args: ['--cycles', '1'] }), opts);
    expectFailed(r, 'opt_not_converged', /FAILED TO CONVERGE/);
  });

  it('past the time limit: timeout, and the run directory is still removed', async () => {
    const r = await runItem(claimed({ smiles: 'CCO', geometry: GEOMETRIES.CCO }), { ...opts, timeoutS: 0.01 });
    expectFailed(r, 'timeout', /time limit of 0\.01 s/);
    expect(await readdir(tmpRoot)).toEqual([]);
  });

  it('atoms on top of each other: xtb refuses them, invalid_input', async () => {
    const geometry = [{ element: 'O', xyz: [0, 0, 0] }, { element: 'H', xyz: [0, 0, 0] }, { element: 'H', xyz: [0, 0, 0.9] }] as ClaimedItem['geometry'];
    const r = await runItem(claimed({ smiles: 'O', geometry }), opts);
    expectFailed(r, 'invalid_input', /xtb rejected the input: .*short distance/);
  });

  it('a SMILES obabel cannot read: invalid_input, and xtb never runs', async () => {
    const r = await runItem(claimed({ smiles: 'C1CC' }), opts);
    expectFailed(r, 'invalid_input', /obabel could not make a 3D geometry from "C1CC"/);
    expect(r.times.xtbS).toBe(0);
  });

  it('a missing xtb program: crash (retried elsewhere), not invalid_input', async () => {
    const r = await runItem(claimed({ smiles: 'O', geometry: GEOMETRIES.O }), { ...opts, xtb: '/nonexistent/xtb' });
    expectFailed(r, 'crash', /cannot run \/nonexistent\/xtb/);
  });

  it('obabel makes a 3D geometry from a SMILES', async () => {
    const g = await geometryFor({ smiles: 'CCO', geometry: null }, { obabel: 'obabel', cwd: tmpRoot, timeoutMs: 60_000 });
    expect(g.ok).toBe(true);
    if (g.ok) {
      expect(g.atoms.map((a) => a.element).sort().join('')).toBe('CCHHHHHHO');
      expect(new Set(g.atoms.map((a) => a.xyz[2])).size).toBeGreaterThan(1);
    }
  });
});

it('a timeout kills the whole process group, grandchildren included', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-runner-pgkill-'));
  const script = path.join(dir, 'slow.sh');
  // The child starts a grandchild, records both pids, and waits.
  await writeFile(script, '#!/bin/sh\nsleep 60 &\necho "$$ $!" > pids\nwait\n');
  await chmod(script, 0o755);
  const r = await runProcess(script, [], { cwd: dir, env: process.env, timeoutMs: 500 });
  expect(r.timedOut).toBe(true);
  expect(r.signal).toBe('SIGKILL');
  const pids = (await readFile(path.join(dir, 'pids'), 'utf8')).trim().split(' ').map(Number);
  expect(pids).toHaveLength(2);
  await new Promise((res) => setTimeout(res, 200));
  for (const pid of pids) {
    // /proc/<pid> disappears once the process is reaped; a zombie still shows as Z.
    let state = '';
    try {
      if (existsSync(`/proc/${pid}`)) state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    } catch {
      // gone between the two looks
    }
    expect(state === '' || state.startsWith('Z'), `pid ${pid} is ${state}`).toBe(true);
  }
  await rm(dir, { recursive: true, force: true });
});
