// Postgres refuses to run as root, so a root caller runs the server as the `postgres` system user.
// That user must be able to walk to the binaries and to the data directory: a checkout inside a
// 0700 folder (`/root`, `mktemp -d`) is closed to it, and the helpers here find that out.
import { execFileSync, spawnSync } from 'node:child_process';

export interface UserIds {
  uid: number;
  gid: number;
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** The `postgres` user's ids, creating the user (as the server packages do) when it is missing. */
export function postgresUser(): UserIds {
  const read = (): UserIds => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return read();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return read();
  }
}

/**
 * Whether `user` can reach `target` with the given access (`x` to enter a folder or run a file,
 * `w` to write). Asked of the kernel by a child running as that user, so ACLs and group
 * membership count exactly as they will for the server.
 */
export function userCan(user: UserIds, target: string, access: 'x' | 'w'): boolean {
  const mode = access === 'x' ? 'X_OK' : 'W_OK';
  const probe = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(process.argv[1], require('node:fs').constants.${mode})`, target], {
    uid: user.uid,
    gid: user.gid,
    stdio: 'ignore',
  });
  return probe.status === 0;
}
