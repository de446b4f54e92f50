// The README's quick start, run as written: the fenced block after `<!-- quickstart` goes to bash
// unchanged except for one thing, the path of `.local/stack.env`, which points at a file describing
// this test run's stack (written as `npm start` writes it). So the test fails when the README's
// commands stop working: token with user creation, one ingest, one query, one export read by ASE.
// `npm start` itself is tested in start-twice.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_USER_ID, ensureLocalUser } from '../../scripts/lib/local-user.ts';
import { mintToken } from '../../scripts/stack/keys.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { adminSql } from '../support/db.ts';

const STACK_ENV = '.local/stack.env';

/** The shell block that follows the `<!-- quickstart` marker in README.md. */
function quickstartBlock(readme: string): string {
  const marker = readme.indexOf('<!-- quickstart');
  if (marker < 0) throw new Error('README.md has no <!-- quickstart --> marker');
  const block = /```(?:sh|bash)\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  if (!block) throw new Error('no ```sh block after the <!-- quickstart --> marker');
  return block[1];
}

/** A python3 that imports ASE, first on PATH: the machine's own when PATH's python3 lacks ASE. */
async function pathWithAse(dir: string): Promise<string> {
  const hasAse = (python: string) => {
    try {
      execFileSync(python, ['-c', 'import ase.io'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (hasAse('python3')) return process.env.PATH ?? '';
  const other = ['/usr/bin/python3', '/usr/local/bin/python3'].find(hasAse);
  if (!other) throw new Error('no python3 with ASE on this machine (apt-get install python3-ase)');
  await symlink(other, path.join(dir, 'python3'));
  return `${dir}${path.delimiter}${process.env.PATH ?? ''}`;
}

let tmp: string;
let run: { code: number | null; stdout: string; stderr: string };
let script: string;

beforeAll(async () => {
  const stack = inject('stack');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-quickstart-'));
  // What `npm start` writes: the connection facts, the demo user and its token.
  await ensureLocalUser(stack.dbUrl, DEMO_USER_ID, 'demo@localhost');
  const envFile = path.join(tmp, 'stack.env');
  await writeFile(envFile, [
    `SUPABASE_URL=${stack.url}`,
    `SUPABASE_ANON_KEY=${stack.anonKey}`,
    `SUPABASE_SERVICE_ROLE_KEY=${stack.serviceRoleKey}`,
    `SUPABASE_DB_URL=${stack.dbUrl}`,
    `SUPABASE_JWT_SECRET=${stack.jwtSecret}`,
    `QF_DEMO_USER_ID=${DEMO_USER_ID}`,
    `SUPABASE_ACCESS_TOKEN=${await mintToken({ secret: stack.jwtSecret, role: 'authenticated', sub: DEMO_USER_ID })}`,
  ].join('\n') + '\n');

  const block = quickstartBlock(await readFile(repoPath('README.md'), 'utf8'));
  expect(block).toContain(STACK_ENV);
  script = block.split(STACK_ENV).join(envFile);
  const bin = path.join(tmp, 'bin');
  await mkdir(bin);
  // A shell without the test's own Supabase settings: everything comes from the block.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SUPABASE_|QF_|npm_)/.test(k)));
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: repoPath('.'),
    env: { ...env, PATH: await pathWithAse(bin) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  run = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}, 600_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the README quick start', () => {
  it('covers token with user creation, an ingest, a query and an export read by ASE', () => {
    expect(script).toMatch(/npm run -s token -- --user [0-9a-f-]{36} --create/);
    expect(script).toMatch(/npm run -s upload -- |functions\/v1\/ingest/);
    expect(script).toContain('/functions/v1/query/calculations');
    expect(script).toContain('/functions/v1/query/export?format=extxyz');
    expect(script).toContain('ase.io');
  });

  it('runs as written and exits 0', () => {
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  });

  it('creates the user, and the token it printed is that user\'s', async () => {
    const id = /--user ([0-9a-f-]{36}) --create/.exec(script)![1];
    expect(run.stderr).toMatch(new RegExp(`token: (created user ${id} in auth.users|user ${id} already exists)`));
    const [{ n }] = await adminSql()`select count(*)::int as n from public.calculations where user_id = ${id}`;
    expect(n).toBeGreaterThan(0);
  });

  it('the upload stores the sample, the query answers three rows and ASE reads the export', () => {
    expect(run.stdout).toMatch(/^total\s+25$/m);
    const query = run.stdout.split('\n').find((l) => l.startsWith('{"data":'));
    expect(query, run.stdout).toBeDefined();
    const page = JSON.parse(query!) as { data: { total_energy_eh: number | null }[] };
    expect(page.data).toHaveLength(3);
    const structures = Number(/^(\d+) structures$/m.exec(run.stdout)?.[1]);
    expect(structures).toBeGreaterThanOrEqual(20);
  });
});
