// Puts the schema on a database: the local platform bootstrap (never on hosted projects), then the
// migrations with the pinned Supabase CLI's `db push`, the same command ops run against a project.
// The CLI's own output reads like an interactive session (`Do you want to push these migrations?
// [Y/n] y`), so the start log gets a one-line summary counted from the migration history instead.
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

/** The versions recorded in the CLI's migration history, oldest first; none before the first push. */
async function appliedVersions(dbUrl: string): Promise<string[]> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const [{ present }] = await sql<{ present: boolean }[]>`
      select to_regclass('supabase_migrations.schema_migrations') is not null as present`;
    if (!present) return [];
    const rows = await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations order by version`;
    return rows.map((r) => r.version);
  } finally {
    await sql.end();
  }
}

/**
 * Applies the pending migrations and answers with a summary line: `applied 2 migrations (…)` or
 * `schema up to date (…)`. A failing push throws with the CLI's output in its message. With
 * `through`, only the migrations up to that version.
 */
export async function pushMigrations(dbUrl: string, opts: { through?: string } = {}): Promise<string> {
  const before = new Set(await appliedVersions(dbUrl));
  if (opts.through) {
    // The same command on a copy of the project that holds the migrations up to `through` only: the
    // schema a database of an earlier version is restored into (scripts/upgrade, the upgrade tests).
    const workdir = await mkdtemp(path.join(os.tmpdir(), 'qf-migrations-'));
    try {
      await mkdir(path.join(workdir, 'supabase', 'migrations'), { recursive: true });
      await cp(repoPath('supabase/config.toml'), path.join(workdir, 'supabase', 'config.toml'));
      for (const file of await readdir(repoPath('supabase/migrations'))) {
        if (/^\d+_.*\.sql$/.test(file) && file.split('_')[0] <= opts.through) {
          await cp(repoPath('supabase/migrations', file), path.join(workdir, 'supabase', 'migrations', file));
        }
      }
      await supabaseCli(['db', 'push', '--db-url', cliDbUrl(dbUrl), '--yes', '--workdir', workdir]);
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
  } else {
    await supabaseCli(['db', 'push', '--db-url', cliDbUrl(dbUrl), '--yes']);
  }
  const after = await appliedVersions(dbUrl);
  const added = after.filter((v) => !before.has(v));
  const plural = (n: number) => `${n} migration${n === 1 ? '' : 's'}`;
  if (added.length === 0) return `schema up to date (${plural(after.length)}, latest ${after.at(-1) ?? 'none'})\n`;
  const which = added.length <= 3 ? added.join(', ') : `${added[0]} … ${added.at(-1)}`;
  return `applied ${plural(added.length)} (${which})${added.length < after.length ? `; ${after.length} in all` : ''}\n`;
}
