// `npm run release`: makes a release of the fixture upload as the token's user, prints the manifest
// on stdout, downloads the export part by part and checks its SHA-256 against the manifest; with
// --version it works on the existing release; a usage mistake is exit 2.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../scripts/stack/paths.ts';
import { clientFor } from '../support/client.ts';
import { parsedFixtureJobs } from '../support/fixtures.ts';
import { newUser, userEnv, type TestUser } from '../support/users.ts';

let user: TestUser;
let dir: string;

function release(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SUPABASE_|QF_)/.test(k))), ...userEnv(user.token) };
  return new Promise((resolve) => {
    execFile(repoPath('node_modules/.bin/tsx'), ['scripts/release.ts', ...args], { cwd: repoPath('.'), env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'qf-release-cli-'));
  user = await newUser();
  const items = (await parsedFixtureJobs()).flatMap((j) => (j.calculation ? [j.calculation] : []));
  await clientFor(user.token).ingest(items);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run release', () => {
  it('makes a release, prints its manifest, and writes an export whose SHA-256 is the manifest\'s', async () => {
    const out = path.join(dir, 'v1.ndjson');
    const r = await release(['--dataset', 'cli', '--filter', 'method=GFN2-xTB', '--license', 'CC-BY-4.0', '--author', 'A. Tester',
      '--author', 'B. Tester', '--split-seed', 's', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest).toMatchObject({ version: 1, license: 'CC-BY-4.0', authors: ['A. Tester', 'B. Tester'], dataset: { name: 'cli' } });
    expect(manifest.splits.fractions).toEqual({ train: 0.8, validation: 0.1, test: 0.1 });
    expect(manifest.counts.calculations).toBeGreaterThan(10);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(manifest.content.sha256);
    expect(r.stderr).toContain('matches the manifest');

    const again = await release(['--dataset', 'cli', '--version', '1', '--out', path.join(dir, 'again.ndjson')]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(manifest);
    expect(readFileSync(path.join(dir, 'again.ndjson')).equals(readFileSync(out))).toBe(true);

    const mace = await release(['--dataset', 'cli', '--version', '1', '--out', path.join(dir, 'train.extxyz'), '--format', 'extxyz',
      '--profile', 'mace', '--split', 'train']);
    expect(mace.code, mace.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'train.extxyz'), 'utf8')).toContain('total_spin=');
  }, 120_000);

  it('refuses a release without a selection or a licence, exit 2', async () => {
    const r = await release(['--dataset', 'cli', '--license', 'MIT', '--author', 'A']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--filter');
    const l = await release(['--dataset', 'cli', '--filter', 'all', '--author', 'A']);
    expect(l.code).toBe(2);
    expect(l.stderr).toContain('--license');
  }, 60_000);
});
