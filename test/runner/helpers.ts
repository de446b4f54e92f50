// Shared by the runner tests: is xtb here (skip loudly, or fail under CI=true), the runner's CLI in a
// child process as users start it, direct xtb runs to compare against, and a stand-in for xtb.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import type { Geometry } from '../../shared/contract/common.ts';
import { parseXtbOut } from '../../shared/xtb/index.ts';
import { finished, spawnScript, type ChildRun } from '../support/child.ts';

function found(program: string, args: string[]): boolean {
  try {
    execFileSync(program, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { status?: number }).status !== undefined;
  }
}

export const HAVE_XTB = found('xtb', ['--version']);
export const HAVE_OBABEL = found('obabel', ['-V']);

/**
 * `describe` when xtb and Open Babel are installed. Without them the suite is skipped with a
 * message saying so, except under CI=true, where a missing program fails the run.
 */
export function describeWithXtb(name: string, body: () => void): void {
  const missing = [HAVE_XTB ? null : 'xtb', HAVE_OBABEL ? null : 'obabel'].filter(Boolean).join(' and ');
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(`${missing} not found on PATH, and CI=true: the runner's tests must run with the real programs (apt-get install xtb openbabel)`);
  }
  console.warn(`SKIPPED "${name}": ${missing} not found on PATH (install Debian's xtb and openbabel to run the runner's tests)`);
  describe.skip(`${name} (skipped: ${missing} not installed)`, body);
}

/** The runner's CLI in a child process, as users start it. */
export const spawnRunner = (args: string[], env: Record<string, string>) => spawnScript('scripts/runner.ts', args, env);

export const runRunner = (args: string[], env: Record<string, string>) => finished(spawnRunner(args, env));

/** The per-item lines of a run's stdout. */
export const itemLines = (run: ChildRun) => run.stdout.split('\n').filter((l) => l.startsWith('item '));

export interface DirectRun {
  energyEh: number;
  gradient: string | null;
  out: string;
}

/** xtb on this geometry with flags written out here (not the runner's builder), in a fresh directory. */
export function directXtb(geometry: Geometry, flags: string[]): DirectRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-direct-xtb-'));
  try {
    const xyz = `${geometry.length}\n\n${geometry.map((a) => `${a.element} ${a.xyz.join(' ')}`).join('\n')}\n`;
    writeFileSync(path.join(dir, 'in.xyz'), xyz);
    let out: string;
    try {
      out = execFileSync('xtb', ['in.xyz', ...flags], {
        cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1', XTBPATH: '/usr/share/xtb' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new Error(`direct xtb ${flags.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? err}`);
    }
    const energy = parseXtbOut(out).totalEnergyEh;
    if (energy === null) throw new Error(`direct xtb ${flags.join(' ')}: no TOTAL ENERGY`);
    let gradient: string | null = null;
    try {
      gradient = readFileSync(path.join(dir, 'gradient'), 'utf8');
    } catch {
      // not a gradient run
    }
    return { energyEh: energy, gradient, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `check` every 50 ms until it holds; after `ms`, fails naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Writes a stand-in for xtb at `file`: it answers --version like xtb, and otherwise sleeps for
 * `sleepS` seconds with a child of its own, after writing "<its pid> <the child's pid>" to
 * `pidFile` (a shell word, so `$$` may name one file per run).
 */
export async function writeSleepingXtb(file: string, pidFile: string, sleepS: number): Promise<void> {
  await writeFile(file, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "   * xtb version 6.5.1 (fake)"; exit 0; fi\nsleep ${sleepS} &\necho "$$ $!" > ${pidFile}\nwait\n`);
  await chmod(file, 0o755);
}
