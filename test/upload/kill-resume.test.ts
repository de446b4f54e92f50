// A run killed at any moment (SIGKILL, no chance to clean up) and started again ends with exactly
// the rows of one clean run. The tree is 2,000 generated jobs (bench/make-jobs.ts: fixture copies
// with perturbed geometries, so no two are duplicates, in the sample's mix of outcomes); the kill
// comes after a random number of finished jobs, while other requests are in flight.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJobs } from '../../bench/make-jobs.ts';
import { finished } from '../support/child.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { newUser, serviceEnv } from '../support/users.ts';
import { readReport, reportedLines, runUpload, spawnUpload } from './run-upload.ts';
import { identities } from './stored-rows.ts';

const JOBS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let tree: string;

beforeAll(async () => {
  tree = await mkdtemp(path.join(os.tmpdir(), 'qf-upload-kill-'));
  await makeJobs({ out: path.join(tree, 'jobs'), count: JOBS });
}, 120_000);
afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('kill and resume', () => {
  it(`SIGKILL at a random point of a ${JOBS}-job upload, then a resumed run, stores exactly what one clean run does`, async () => {
    const jobs = path.join(tree, 'jobs');
    const clean = await newUser();
    const killed = await newUser();

    const cleanRun = await runUpload(['--jobs-root', jobs, '--user-id', clean.id, '--report', path.join(tree, 'clean.jsonl')], serviceEnv());
    expect(cleanRun.code, cleanRun.stderr).toBe(0);
    const cleanReport = readReport(path.join(tree, 'clean.jsonl'));
    expect(cleanReport).toHaveLength(JOBS);

    // Kill after a random number of reported jobs, between 5% and 85% of the tree.
    const killAt = Math.floor(JOBS * (0.05 + Math.random() * 0.8));
    const firstReport = path.join(tree, 'killed.jsonl');
    const child = spawnUpload(['--jobs-root', jobs, '--user-id', killed.id, '--report', firstReport], serviceEnv());
    const exit = finished(child);
    let exited = false;
    void exit.then(() => { exited = true; });
    while (!exited && (await reportedLines(firstReport)) < killAt) await sleep(5);
    child.kill('SIGKILL');
    const first = await exit;
    const reportedBeforeKill = readReport(firstReport).length;
    expect(first.signal, `the run ended by itself before job ${killAt}`).toBe('SIGKILL');
    expect(reportedBeforeKill).toBeLessThan(JOBS);

    const resumed = await runUpload(['--jobs-root', jobs, '--user-id', killed.id, '--report', path.join(tree, 'resumed.jsonl')], serviceEnv());
    expect(resumed.code, resumed.stderr).toBe(0);
    const resumedReport = readReport(path.join(tree, 'resumed.jsonl'));
    expect(resumedReport).toHaveLength(JOBS);
    expect(resumedReport.filter((l) => l.outcome === 'error')).toEqual([]);

    const context = `killed after ${reportedBeforeKill} reported jobs (aimed at ${killAt})`;
    expect(await userCounts(killed.id, { withoutTimingEvents: true }), context).toEqual(await userCounts(clean.id, { withoutTimingEvents: true }));
    expect(await identities(adminSql(), killed.id), context).toEqual(await identities(adminSql(), clean.id));
    // Every job stored by the clean run is stored after the resume: now either new or already there.
    const stored = (lines: typeof cleanReport) => lines.filter((l) => l.calculation_id).map((l) => l.path).sort();
    expect(stored(resumedReport)).toEqual(stored(cleanReport));
    expect(resumedReport.filter((l) => l.outcome === 'duplicate').length, context).toBeGreaterThan(0);
  }, 600_000);
});
