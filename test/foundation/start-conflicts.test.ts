// What a user sees when the embedded database cannot start where it was asked: a data directory
// another server holds, a port someone else listens on, a checkout the `postgres` user cannot
// enter. Each names the cause (pid, port, folder) instead of failing with no message.
import { describe, expect, it } from 'vitest';
import { cp, chmod, lstat, mkdtemp, readlink, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startPostgres } from '../../scripts/stack/postgres.ts';
import { packagedNativeDir } from '../../scripts/stack/postgres-binaries.ts';
import { freePort } from '../support/stack.ts';

async function openDir(prefix: string, mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, mode);
  return dir;
}

describe('starting the embedded database', () => {
  it('refuses a data directory another server holds, naming its pid', async () => {
    const root = await openDir('qf-held-', 0o755);
    const first = await startPostgres({ dataDir: path.join(root, 'pgdata'), port: await freePort() });
    try {
      const second = startPostgres({ dataDir: path.join(root, 'pgdata'), port: await freePort() });
      await expect(second).rejects.toThrow(`is in use by another PostgreSQL (pid ${first.pid()})`);
    } finally {
      await first.stop();
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a port in use, naming the port and who holds it', async () => {
    const root = await openDir('qf-port-', 0o755);
    const port = await freePort();
    const squatter = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      await expect(startPostgres({ dataDir: path.join(root, 'pgdata'), port }))
        .rejects.toThrow(new RegExp(`the database port ${port} is in use by pid ${process.pid} \\(`));
    } finally {
      squatter.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)('runs as root from a checkout in a 0700 folder', async () => {
    // A stand-in checkout the postgres user cannot enter, holding the binaries and the data.
    const checkout = await openDir('qf-closed-', 0o700);
    const shared = await openDir('qf-shared-', 0o755);
    const native = path.join(checkout, 'native');
    await cp(await packagedNativeDir(), native, { recursive: true, verbatimSymlinks: true });
    await cp(path.join(await packagedNativeDir(), '..', 'package.json'), path.join(checkout, 'package.json'));
    const lines: string[] = [];
    const dataDir = path.join(checkout, '.local', 'pgdata');
    const server = await startPostgres({ dataDir, port: await freePort(), nativeDir: native, sharedDir: shared, log: (l) => lines.push(l) });
    try {
      const sql = postgres(server.url, { max: 1, onnotice: () => {} });
      expect((await sql`select 1 as one`)[0].one).toBe(1);
      await sql.end();
      expect(server.dataDir.startsWith(shared)).toBe(true);
      expect((await lstat(dataDir)).isSymbolicLink()).toBe(true);
      expect(await readlink(dataDir)).toBe(server.dataDir);
      expect(lines.join('')).toContain(`the postgres user cannot enter ${path.dirname(dataDir)}`);
      expect(lines.join('')).toContain(`the server runs from ${shared}/postgres-`);
    } finally {
      await server.stop();
      await rm(checkout, { recursive: true, force: true });
      await rm(shared, { recursive: true, force: true });
    }
  }, 120_000);
});
