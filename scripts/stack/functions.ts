// Serves the edge functions with Deno (npm `deno`) at http://HOST:PORT/functions/v1/<name>.
import { spawn, type ChildProcess } from 'node:child_process';
import { repoPath } from './paths.ts';
import { describePortInUse, portInUse } from './port-owner.ts';

export interface RunningFunctions {
  url: string;
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Kills the process with SIGKILL and starts a new one (fault tests). */
  restart(): Promise<void>;
}

export interface FunctionsOptions {
  port: number;
  env: Record<string, string>;
  log?: (line: string) => void;
}

export const DENO_BIN = repoPath('node_modules/.bin/deno');

async function waitForPort(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`deno exited with code ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`functions did not answer at ${url} within ${timeoutMs} ms`);
}

export async function startFunctions(opts: FunctionsOptions): Promise<RunningFunctions> {
  const base = `http://127.0.0.1:${opts.port}`;
  const log = opts.log ?? (() => {});
  let child: ChildProcess;

  // Another server on the port would answer the readiness probe below and pass for this one.
  if (await portInUse(opts.port)) throw new Error(await describePortInUse(opts.port, 'the functions'));

  const launch = async () => {
    child = spawn(DENO_BIN, [
      'run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', '--no-prompt',
      '--config', repoPath('deno.json'),
      repoPath('scripts/stack/functions-router.ts'),
    ], {
      cwd: repoPath('.'),
      env: { ...process.env, ...opts.env, FUNCTIONS_PORT: String(opts.port), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => log(String(d)));
    child.stderr?.on('data', (d) => log(String(d)));
    await waitForPort(`${base}/`, child, 60_000);
  };

  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: base,
    pid: () => child.pid,
    stop,
    restart: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await launch();
    },
  };
}
