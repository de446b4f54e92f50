// The project's CLIs in child processes, as users start them: node + tsx with no npm in between (so
// a signal reaches the script itself), in the repository, with only the environment the caller gives
// on top of a shell that has no Supabase or QF settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../scripts/stack/paths.ts';

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the spawn to the exit. */
  seconds: number;
}

export type Spawned = ChildProcess & { startedAt: number };

/** This process' environment without SUPABASE_* and QF_* settings, plus `env`. */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SUPABASE_|QF_)/.test(k)));
  return { ...base, ...env };
}

/** Starts `script` (a path from the repository's root, e.g. `scripts/runner.ts`) with `args`. */
export function spawnScript(script: string, args: readonly string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'],
  });
  return Object.assign(child, { startedAt: performance.now() });
}

/** The child's exit and everything it wrote. Call it right after the spawn, before any output is lost. */
export function finished(child: Spawned): Promise<ChildRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - child.startedAt) / 1000 }));
  });
}
