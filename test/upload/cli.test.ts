// The uploader's command line as a user meets it: exit codes (2 for bad arguments or a server it
// cannot use, 1 when some job got `error`), --dry-run contacting nothing, --limit, progress lines.
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { userCounts } from '../support/counts.ts';
import { newUser, serviceEnv } from '../support/users.ts';
import { FIXTURES, readReport, runUpload } from './run-upload.ts';

// Each test starts the CLI (node + tsx) at least once: allow for a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const USAGE_LINE = /^usage: npm run upload -- --jobs-root DIR/m;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-upload-cli-'));
});

describe('bad arguments: exit 2, one line saying why, then the usage', () => {
  it.each([
    ['a missing --jobs-root', [], 'upload: --jobs-root is required'],
    ['a root that does not exist', ['--jobs-root', '/nonexistent/jobs'], 'upload: --jobs-root /nonexistent/jobs: no such directory'],
    ['a bad UUID', ['--jobs-root', FIXTURES, '--user-id', 'not-a-uuid'], 'upload: --user-id must be a UUID, not "not-a-uuid"'],
    ['an unknown flag', ['--jobs-root', FIXTURES, '--force'], 'upload: Unknown option \'--force\''],
    ['a bad --limit', ['--jobs-root', FIXTURES, '--limit', 'ten'], 'upload: --limit must be a whole number from 1 to'],
  ])('%s', async (_, args, message) => {
    const run = await runUpload(args, serviceEnv());
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => !/Node\.js 20/.test(l));
    expect(lines[0].startsWith(message), lines[0]).toBe(true);
    expect(lines[1]).toMatch(USAGE_LINE);
    expect(run.stdout).toBe('');
  });

  it('the service-role key without --user-id', async () => {
    const run = await runUpload(['--jobs-root', FIXTURES], serviceEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^upload: --user-id is required with the service-role key/m);
  });
});

describe('a server it cannot use: exit 2 before reading any job', () => {
  it('nothing listening', async () => {
    const user = await newUser();
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', user.id], { ...serviceEnv(), SUPABASE_URL: 'http://127.0.0.1:9' });
    expect(run.code).toBe(2);
    // Says what is wrong in a user's words (not supabase-js' "Failed to send a request") and what to do.
    expect(run.stderr).toMatch(/^upload: the stack is not reachable at http:\/\/127\.0\.0\.1:9: start it with `npm start`/m);
    expect(run.stderr).not.toMatch(/Failed to send a request/);
    expect(run.stdout).toBe('');
  });

  it('an owner the server does not know: the first request says so and the run stops', async () => {
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', '0b8f2c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b'], serviceEnv());
    expect(run.code).toBe(2);
    // The owner is named, with how to create it locally and who creates it on a hosted project.
    const unknown = 'ingest failed (HTTP 422): no such user: the user named by user_id is not in this project\'s auth.users. ' +
      'On the local stack, create it with `npm run token -- --user <user_id> --create`; ' +
      'on a hosted project, users are created by Supabase Auth (sign-up or the dashboard).';
    expect(run.stderr.split('\n')).toContain(`upload: ${unknown}`);
    expect(run.stdout).toContain(`stopped early: ${unknown}`);
  });

  it('a key the server refuses', async () => {
    const user = await newUser();
    const run = await runUpload(['--jobs-root', FIXTURES], { ...serviceEnv(), SUPABASE_ACCESS_TOKEN: `${user.token}x` });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refused the key \(HTTP 401\)/);
  });
});

describe('exit 1 when jobs get `error`', () => {
  let server: http.Server;
  let url: string;
  let ingestCalls = 0;
  beforeAll(async () => {
    // Healthy to the preflight, then every ingest request fails with a 500 (not retried).
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/functions/v1/health')) {
          res.end(JSON.stringify({ status: 'ok', database: { reachable: true, all_tables_present: true, tables: {} } }));
        } else {
          ingestCalls++;
          res.statusCode = 500;
          res.end(JSON.stringify({ error: { code: 'internal_error', message: 'internal error' } }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reports each unsent job as error with the reason, and the others as usual', async () => {
    const report = path.join(tmp, 'errors.jsonl');
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', '0b8f2c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b', '--report', report, '--batch-size', '10'],
      { SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: 'anything' });
    expect(run.code).toBe(1);
    const lines = readReport(report);
    expect(lines).toHaveLength(25);
    const errors = lines.filter((l) => l.outcome === 'error');
    expect(errors).toHaveLength(24);
    expect(errors[0].error).toBe('not stored: the server failed on it (HTTP 500): internal error');
    expect(lines.filter((l) => l.outcome === 'skipped_running').map((l) => l.path)).toEqual(['2025-04/qf-20250401-00019']);
    // 00022 (bad SMILES) is only found out by the server: here it is an error like the rest.
    // A 5xx may be one job's doing, so each request is halved until the job is alone: a batch of n
    // that always fails costs 2n - 1 requests (batches of 10, 10 and 4 → 19 + 19 + 7).
    expect(ingestCalls).toBe(45);
    expect(run.stdout).toMatch(/^error\s+24$/m);
  });
});

describe('--dry-run', () => {
  it('parses and checks everything, contacts no server, writes nothing', async () => {
    const user = await newUser();
    const report = path.join(tmp, 'dry.jsonl');
    const before = await userCounts(user.id);
    // Nothing listens on port 9: a dry run must not notice.
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', user.id, '--dry-run', '--report', report],
      { SUPABASE_URL: 'http://127.0.0.1:9', SUPABASE_SERVICE_ROLE_KEY: 'x', QF_UPLOAD_PROGRESS_MS: '100' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^dry run \(nothing was sent\)/);
    expect(run.stdout).toContain('would send 23 calculations (21 completed, 2 failed)');
    // Without a terminal, progress comes as lines every QF_UPLOAD_PROGRESS_MS.
    expect(run.stderr).toMatch(/^upload: \d+ jobs in \d+ s \(\d+ jobs\/s\) {2}completed \d+/m);
    const lines = readReport(report);
    expect(lines).toHaveLength(25);
    expect(lines.find((l) => l.path === '2025-04/qf-20250401-00022')).toMatchObject({ outcome: 'invalid', error: 'molecule.smiles: cannot parse the SMILES "C1CC": ring bond 1 is never closed' });
    expect(await userCounts(user.id)).toEqual(before);
  });
});

describe('--limit', () => {
  it('stops after N jobs', async () => {
    const user = await newUser();
    const report = path.join(tmp, 'limit.jsonl');
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', user.id, '--limit', '5', '--report', report], serviceEnv());
    expect(run.code, run.stderr).toBe(0);
    expect(readReport(report)).toHaveLength(5);
    expect(run.stdout).toMatch(/^total\s+5$/m);
    expect(run.stdout).toContain('stopped after --limit 5 jobs');
    const counts = await userCounts(user.id);
    expect(counts.calculations).toBeLessThanOrEqual(5);
    expect(counts.calculations).toBe(readReport(report).filter((l) => l.calculation_id).length);
  });
});
