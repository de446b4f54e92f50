// Puts the schema on a database: the local platform bootstrap (never on hosted projects), then the
// migrations with the pinned Supabase CLI's `db push`, the same command ops run against a project.
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { repoPath } from './paths.ts';

const run = promisify(execFile);

export async function applyBootstrap(dbUrl: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(await readFile(repoPath('supabase/bootstrap/local-platform.sql'), 'utf8'));
  } finally {
    await sql.end();
  }
}

/** The CLI speaks TLS by default; a local server without TLS needs sslmode=disable. */
export function cliDbUrl(dbUrl: string): string {
  const url = new URL(dbUrl);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
  if (local && !url.searchParams.has('sslmode')) url.searchParams.set('sslmode', 'disable');
  return url.toString();
}

export async function supabaseCli(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(repoPath('node_modules/.bin/supabase'), args, {
    cwd: repoPath('.'),
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout + stderr;
}

export async function pushMigrations(dbUrl: string): Promise<string> {
  return supabaseCli(['db', 'push', '--db-url', cliDbUrl(dbUrl), '--yes']);
}
