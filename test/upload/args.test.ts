// The uploader's arguments and connection settings, as pure functions (the CLI's exit codes for them
// are in cli.test.ts).
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJobsRoot, parseUploadArgs, UsageError } from '../../scripts/upload/args.ts';
import { jwtClaims, resolveConnection } from '../../scripts/lib/connection.ts';

const USER = '0b8f2c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b';
const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('parseUploadArgs', () => {
  it('reads every flag and fills the defaults', () => {
    expect(parseUploadArgs(['--jobs-root', 'jobs'])).toEqual({
      jobsRoot: path.resolve('jobs'), dryRun: false, concurrency: 4, batchSize: 200, keepRawOutput: false,
    });
    expect(parseUploadArgs([
      '--jobs-root=/data/jobs', '--user-id', USER.toUpperCase(), '--dry-run', '--limit', '10',
      '--concurrency', '8', '--batch-size', '50', '--report', 'out.jsonl', '--keep-raw-output',
    ])).toEqual({
      jobsRoot: '/data/jobs', userId: USER, dryRun: true, limit: 10, concurrency: 8, batchSize: 50,
      report: path.resolve('out.jsonl'), keepRawOutput: true,
    });
  });

  it.each([
    [[], /^--jobs-root is required$/],
    [['--jobs-root', 'j', '--user-id', 'alice'], /^--user-id must be a UUID, not "alice"$/],
    [['--jobs-root', 'j', '--frobnicate'], /^Unknown option '--frobnicate'/],
    [['--jobs-root', 'j', 'extra'], /^Unexpected argument 'extra'/],
    [['--jobs-root'], /argument missing/],
    [['--jobs-root', 'j', '--limit', '0'], /^--limit must be a whole number/],
    [['--jobs-root', 'j', '--limit', '2.5'], /^--limit must be a whole number/],
    [['--jobs-root', 'j', '--concurrency', '1000'], /^--concurrency must be a whole number from 1 to 64/],
    [['--jobs-root', 'j', '--report', ''], /^--report needs a file name$/],
  ])('%j → UsageError %s', (argv, message) => {
    let error: unknown;
    try {
      parseUploadArgs(argv);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('checkJobsRoot wants an existing directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'qf-upload-args-'));
    await writeFile(path.join(dir, 'file'), 'x');
    await expect(checkJobsRoot(dir)).resolves.toBeUndefined();
    await expect(checkJobsRoot(path.join(dir, 'nope'))).rejects.toThrow(/no such directory/);
    await expect(checkJobsRoot(path.join(dir, 'file'))).rejects.toThrow(/not a directory/);
  });
});

describe('resolveConnection', () => {
  const stackEnv = { SUPABASE_URL: 'http://stack', SUPABASE_SERVICE_ROLE_KEY: 'stack-service' };

  it('uses the service-role key as --user-id, from the environment before .local/stack.env', () => {
    expect(resolveConnection(USER, {}, stackEnv)).toEqual({
      url: 'http://stack', key: 'stack-service', mode: 'service_role', userId: USER, owner: USER,
    });
    expect(resolveConnection(USER, { SUPABASE_URL: 'http://env', SUPABASE_SERVICE_ROLE_KEY: 'env-service' }, stackEnv))
      .toMatchObject({ url: 'http://env', key: 'env-service' });
  });

  it('requires --user-id with the service-role key', () => {
    expect(() => resolveConnection(undefined, {}, stackEnv)).toThrow(/--user-id is required with the service-role key/);
    expect(() => resolveConnection(undefined, { SUPABASE_ACCESS_TOKEN: jwt({ role: 'service_role' }) }, stackEnv))
      .toThrow(/--user-id is required/);
  });

  it('uploads as the user of SUPABASE_ACCESS_TOKEN, sending no user_id', () => {
    const token = jwt({ role: 'authenticated', sub: USER });
    expect(resolveConnection(undefined, { SUPABASE_ACCESS_TOKEN: token }, stackEnv)).toEqual({
      url: 'http://stack', key: token, mode: 'user', owner: USER,
    });
    expect(resolveConnection(USER, { SUPABASE_ACCESS_TOKEN: token }, stackEnv).mode).toBe('user');
    expect(() => resolveConnection('11111111-2222-4333-8444-555555555555', { SUPABASE_ACCESS_TOKEN: token }, stackEnv))
      .toThrow(/is not the user of SUPABASE_ACCESS_TOKEN/);
  });

  it('needs a URL and a key', () => {
    expect(() => resolveConnection(USER, {}, {})).toThrow(/no SUPABASE_URL/);
    expect(() => resolveConnection(USER, { SUPABASE_URL: 'http://x' }, {})).toThrow(/no key/);
  });

  it('reads JWT claims without verifying, and nothing from a non-JWT', () => {
    expect(jwtClaims(jwt({ role: 'authenticated', sub: USER }))).toEqual({ role: 'authenticated', sub: USER });
    expect(jwtClaims('not-a-token')).toBeNull();
  });
});
