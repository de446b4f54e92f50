// `npm start` as a user runs it: starts from nothing, stops cleanly on SIGTERM with no orphan
// Postgres or Deno, and a second start keeps the data. The second start runs through npm and only
// npm gets the SIGTERM (npm then exits without passing it on): the stack must still stop. The dashboard URL it prints serves the page,
// the page's config, and the demo user's token, which the functions accept.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { repoPath } from '../../scripts/stack/paths.ts';
import { loadStackEnv } from '../../scripts/stack/stack-env.ts';
import { calc } from '../support/payloads.ts';
import { freePort } from '../support/stack.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function runStart(localDir: string, port: number, dbPort: number, dashboardPort: number, via: 'tsx' | 'npm' = 'tsx') {
  const args = ['--port', String(port), '--db-port', String(dbPort), '--dashboard-port', String(dashboardPort)];
  const [command, commandArgs] = via === 'npm'
    ? ['npm', ['start', '--silent', '--', ...args]]
    : [repoPath('node_modules/.bin/tsx'), ['scripts/start.ts', ...args]];
  const child = spawn(command, commandArgs, {
    cwd: repoPath('.'),
    env: { ...process.env, QF_LOCAL_DIR: localDir, SUPABASE_DB_URL: '', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // Generous: the first start on a checkout also builds the dashboard.
  const deadline = Date.now() + 180_000;
  while (!output.includes('is running')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start failed:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('npm start', () => {
  it('keeps the data across two starts and leaves no process behind', async () => {
    const localDir = await mkdtemp(path.join(os.tmpdir(), 'qf-start-'));
    await chmod(localDir, 0o755);
    const [port, dbPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
    try {
      const first = await runStart(localDir, port, dbPort, dashboardPort);
      expect(first.output).toContain('SUPABASE_ANON_KEY=');
      const env = await loadStackEnv(path.join(localDir, 'stack.env'));
      expect(Object.keys(env).sort()).toEqual([
        'QF_DEMO_USER_ID', 'SUPABASE_ACCESS_TOKEN', 'SUPABASE_ANON_KEY', 'SUPABASE_DB_URL', 'SUPABASE_JWT_SECRET', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_URL',
      ]);
      const health = await fetch(`${env.SUPABASE_URL}/functions/v1/health`, { headers: { authorization: `Bearer ${env.SUPABASE_ANON_KEY}` } });
      expect(health.status).toBe(200);
      // The log is a summary, not the CLI's interactive-looking transcript.
      expect(first.output).toMatch(/^\[migrations\] applied \d+ migrations /m);
      expect(first.output).not.toMatch(/\[Y\/n\]/);
      // The demo user exists and its token writes at once.
      expect(first.output).toContain(`Demo user:   ${env.QF_DEMO_USER_ID} (created in auth.users)`);
      const ingest = await fetch(`${env.SUPABASE_URL}/functions/v1/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.SUPABASE_ACCESS_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ calculations: [calc()] }),
      });
      expect(ingest.status, await ingest.clone().text()).toBe(200);

      const signIn = /^Dashboard:\s+(http:\/\/127\.0\.0\.1:(\d+)\/)#token=(\S+)$/m.exec(first.output);
      expect(signIn, first.output).not.toBeNull();
      const [, page, shownPort, token] = signIn!;
      expect(Number(shownPort)).toBe(dashboardPort);
      // The link signs in the demo user: its token is the one in stack.env.
      expect(token).toBe(env.SUPABASE_ACCESS_TOKEN);
      const html = await fetch(page);
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await html.text()).toContain('<div id="app">');
      expect(await (await fetch(`${page}config.json`)).json()).toEqual({ url: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY, local: true });
      const stats = await fetch(`${env.SUPABASE_URL}/functions/v1/query/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(stats.status).toBe(200);
      expect((await fetch(`${page}../package.json`)).status).toBe(404);

      const sql = postgres(env.SUPABASE_DB_URL, { max: 1 });
      await sql`insert into auth.users (id, email) values ('00000000-0000-4000-8000-00000000abcd', 'keep@test.local')`;
      await sql.end();
      const postmaster = Number((await readFile(path.join(localDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);

      expect(await first.stop()).toBe(0);
      expect(alive(postmaster)).toBe(false);
      await expect(fetch(`${env.SUPABASE_URL}/functions/v1/health`)).rejects.toThrow();

      const second = await runStart(localDir, port, dbPort, dashboardPort, 'npm');
      const secondPostmaster = Number((await readFile(path.join(localDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      expect(second.output).toMatch(/^\[migrations\] schema up to date \(\d+ migrations, latest \d{14}\)$/m);
      expect(second.output).toContain(`Demo user:   ${env.QF_DEMO_USER_ID} (already in auth.users)`);
      const again = postgres(env.SUPABASE_DB_URL, { max: 1 });
      const rows = await again`select email from auth.users where id = '00000000-0000-4000-8000-00000000abcd'`;
      await again.end();
      expect(rows).toEqual([{ email: 'keep@test.local' }]);
      // The keys printed the first time are still valid: the secret lives beside the data.
      const env2 = await loadStackEnv(path.join(localDir, 'stack.env'));
      expect(env2.SUPABASE_JWT_SECRET).toBe(env.SUPABASE_JWT_SECRET);
      // npm exits on its SIGTERM at once; the stack notices its launcher is gone and stops itself.
      await second.stop();
      const stopBy = Date.now() + 60_000;
      while (alive(secondPostmaster) && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 250));
      expect(alive(secondPostmaster), 'Postgres outlived npm').toBe(false);
      await expect(fetch(`${env.SUPABASE_URL}/functions/v1/health`)).rejects.toThrow();
    } finally {
      await rm(localDir, { recursive: true, force: true });
    }
  }, 240_000);
});
