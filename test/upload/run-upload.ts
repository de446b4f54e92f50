// Runs the uploader as users do: its CLI in a child process (node + tsx, no npm in between, so a
// signal reaches the uploader itself), with only the environment the test gives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

export interface UploadRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a shell without any Supabase settings, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SUPABASE_|QF_)/.test(k)));
  return { ...base, ...env };
}

export function spawnUpload(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'scripts/upload.ts', ...args], {
    cwd: REPO,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function finished(child: ChildProcess): Promise<UploadRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runUpload = (args: string[], env: Record<string, string> = {}) => finished(spawnUpload(args, env));

/** Service-role settings for a stack: the shared test stack unless another is given. */
export function serviceEnv(stack: { url: string; serviceRoleKey: string } = inject('stack')): Record<string, string> {
  return { SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey };
}

export interface ReportLine {
  path: string;
  job_id: string;
  outcome: string;
  calculation_id: string | null;
  molecule_id: string | null;
  warnings: string[];
  error: string | null;
  already_stored: boolean;
}

export function readReport(file: string): ReportLine[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export const byPath = (lines: ReportLine[]) => Object.fromEntries(lines.map((l) => [l.path, l]));

/** Lines written so far to a report that a running upload is appending to (0 before it exists). */
export async function reportedLines(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').length - 1;
  } catch {
    return 0;
  }
}
