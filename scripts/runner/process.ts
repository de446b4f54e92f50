// Runs one external program (xtb, obabel) in its own process group, with a time limit and an abort
// signal. Either one kills the whole group with SIGKILL: xtb may leave helpers behind, and nothing
// it writes after the limit is wanted. Output goes to a file (stdout and stderr interleaved, like
// `> xtb.out 2>&1`) or is captured.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Aborting kills the process group (a lost lease, a second Ctrl-C). */
  signal?: AbortSignal;
  /** Write stdout and stderr, interleaved, to this file; without it both are captured. */
  outputFile?: string;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Killed because `signal` was aborted. */
  aborted: boolean;
  seconds: number;
  /** From the call to the process running (fork and exec; part of `seconds`), 0 if it never started. */
  startS: number;
  /** Captured output (empty when written to a file). */
  stdout: string;
  stderr: string;
  /** The program could not be started (not found, not executable). */
  spawnError?: string;
}

/** Process groups alive now, so a hard stop can end them all. */
const live = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every process group started here and still running. */
export function killAllGroups(): void {
  for (const pid of live) killGroup(pid);
}

export function runProcess(command: string, args: readonly string[], opts: ProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const base = { timedOut: false, aborted: false, stdout: '', stderr: '' };
  if (opts.signal?.aborted) return Promise.resolve({ ...base, exitCode: null, signal: null, aborted: true, seconds: 0, startS: 0 });

  let fd: number | undefined;
  if (opts.outputFile) fd = openSync(opts.outputFile, 'w');
  let child;
  try {
    child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }

  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let startS = 0;
    child.on('spawn', () => { startS = elapsed(); });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    const kill = () => { if (pid !== undefined) killGroup(pid); };
    const timer = setTimeout(() => { timedOut = true; kill(); }, Math.max(1, opts.timeoutMs));
    const onAbort = () => { aborted = true; kill(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    const finish = (r: Pick<ProcessResult, 'exitCode' | 'signal' | 'spawnError'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) live.delete(pid);
      resolve({ ...r, timedOut, aborted, seconds: elapsed(), startS, stdout, stderr });
    };
    child.on('error', (err) => finish({ exitCode: null, signal: null, spawnError: err.message }));
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }));
  });
}
