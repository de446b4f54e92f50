// A streaming read replica of a running embedded PostgreSQL, for the read-replica test and for
// trying SUPABASE_DB_READ_URL locally. The npm server package ships no pg_basebackup, so the copy
// is taken the way pg_basebackup takes it, with the low-level backup API: pg_backup_start in one
// session, a copy of the data directory while the primary keeps running, pg_backup_stop in the
// same session, and the backup_label (and tablespace_map) it returns written into the copy. The
// copy then starts as a hot standby (standby.signal) that streams WAL from the primary as a
// replication role, so it replays the inconsistent copy to a consistent state and follows on.
import { spawn } from 'node:child_process';
import { chown, mkdir, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { startPostgres, type RunningPostgres } from './postgres.ts';
import { postgresUser, runningAsRoot } from './postgres-user.ts';

export interface ReplicaOptions {
  /** The primary (its data directory is copied; it must be a server started here). */
  primary: RunningPostgres;
  /** An empty folder for the replica's data, reachable by the postgres user. */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

/** The role the standby streams as: replication only, no access to any table. */
const REPLICATOR = 'qf_replicator';
const REPLICATOR_PASSWORD = 'replicator';

/** Copies a folder with its modes and owners (`cp -a`: root keeps the postgres user's files its). */
function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // A file the running primary removes mid-copy (a temporary stats file) is not needed.
    child.on('close', (code) => (code === 0 || /No such file/.test(stderr) ? resolve() : reject(new Error(`cp failed (${code}): ${stderr}`))));
  });
}

/** Empties a folder, keeping it (pg_wal must exist; the standby fetches what it needs). */
async function emptyDir(dir: string, keep: string[] = []): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!keep.includes(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Writes a file the server will read, owned by the user it runs as. */
async function writeServerFile(file: string, text: string, append = false): Promise<void> {
  await (append ? appendFile(file, text) : writeFile(file, text, { mode: 0o600 }));
  if (runningAsRoot()) {
    const user = postgresUser();
    await chown(file, user.uid, user.gid);
  }
}

/** Takes a base backup of `primary` into `dataDir` and starts it as a streaming hot standby. */
export async function startReplica(opts: ReplicaOptions): Promise<RunningPostgres> {
  const admin = postgres(opts.primary.url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`
      do $$ begin
        if not exists (select from pg_roles where rolname = '${REPLICATOR}') then
          create role ${REPLICATOR} with login replication password '${REPLICATOR_PASSWORD}';
        end if;
      end $$`);
    // wal_level 'replica' is PostgreSQL's default; a primary set to 'minimal' cannot stream.
    const [{ wal_level }] = await admin`select current_setting('wal_level') as wal_level`;
    if (wal_level === 'minimal') throw new Error('the primary runs with wal_level=minimal: set it to replica and restart it');

    // Start and stop must run in one session (a non-exclusive backup belongs to its session).
    const session = await admin.reserve();
    let label: string;
    let spcmap: string;
    try {
      await session`select pg_backup_start('qf-replica', true)`;
      await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
      await copyTree(opts.primary.dataDir, opts.dataDir);
      const [stop] = await session<{ labelfile: string; spcmapfile: string | null }[]>`
        select labelfile, spcmapfile from pg_backup_stop(true)`;
      label = stop.labelfile;
      spcmap = stop.spcmapfile ?? '';
    } finally {
      session.release();
    }

    // What pg_basebackup leaves out: the primary's lock file and options, its WAL (streamed
    // instead, from the backup's start), replication slots and transient state.
    for (const file of ['postmaster.pid', 'postmaster.opts', 'backup_label.old', 'standby.signal', 'recovery.signal']) {
      await rm(path.join(opts.dataDir, file), { force: true });
    }
    await emptyDir(path.join(opts.dataDir, 'pg_wal'), ['archive_status']);
    await emptyDir(path.join(opts.dataDir, 'pg_wal', 'archive_status'));
    for (const dir of ['pg_replslot', 'pg_stat_tmp', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']) {
      await emptyDir(path.join(opts.dataDir, dir));
    }

    await writeServerFile(path.join(opts.dataDir, 'backup_label'), label);
    if (spcmap) await writeServerFile(path.join(opts.dataDir, 'tablespace_map'), spcmap);
    await writeServerFile(path.join(opts.dataDir, 'standby.signal'), '');
    const conninfo = `host=127.0.0.1 port=${opts.primary.port} user=${REPLICATOR} password=${REPLICATOR_PASSWORD} application_name=qf-replica`;
    await writeServerFile(path.join(opts.dataDir, 'postgresql.auto.conf'), `\nprimary_conninfo = '${conninfo}'\n`, true);
  } finally {
    await admin.end();
  }
  return startPostgres({ dataDir: opts.dataDir, port: opts.port, log: opts.log });
}
