// (d) The database restarts during an upload. The uploader's CLI sends a tree of generated jobs to a
// private stack; after a quarter of them are reported, the postmaster is SIGKILLed and started
// again. The same run, without a restart, finishes on its own with exit 0, no job in error, and
// the rows of a clean run of the same tree: nothing lost, nothing stored twice.
// FAULT_JOBS (default 1,000; `npm run test:faults` uses 2,000) sets the size of the tree.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJobs } from '../../bench/make-jobs.ts';
import { finished } from '../support/child.ts';
import { userCounts } from '../support/counts.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser, serviceEnv } from '../support/users.ts';
import { readReport, reportedLines, runUpload, spawnUpload, type ReportLine } from '../upload/run-upload.ts';
import { identities } from '../upload/stored-rows.ts';
import { alive, killPostmaster } from './postmaster.ts';

const JOBS = Number(process.env.FAULT_JOBS ?? 1000);

let stack: TestStack;
let sql: postgres.Sql;
let tree: string;

beforeAll(async () => {
  [stack, tree] = await Promise.all([startTestStack(), mkdtemp(path.join(os.tmpdir(), 'qf-faults-upload-'))]);
  sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  await makeJobs({ out: path.join(tree, 'jobs'), count: JOBS });
}, 180_000);

afterAll(async () => {
  await sql?.end({ timeout: 5 }).catch(() => {});
  await stack?.destroy();
  if (tree) await rm(tree, { recursive: true, force: true });
}, 60_000);

const newOwner = async () => (await createUser(sql, stack.jwtSecret)).id;

/** Per job: stored or not, and what kind of job it was. `created` and `duplicate` are one kind
 * here: a request committed just before the kill and retried after it is a duplicate the second time. */
const settled = (lines: ReportLine[]) => Object.fromEntries(lines.map((l) => [
  l.path,
  `${l.outcome === 'duplicate' ? 'created' : l.outcome} ${l.calculation_id ? 'stored' : 'not stored'}`,
]));

describe(`(d) the database restarts during an upload of ${JOBS} jobs`, () => {
  it('the uploader finishes by itself, exit 0, with the rows of a clean run', async () => {
    const jobs = path.join(tree, 'jobs');
    const clean = await newOwner();
    const faulted = await newOwner();

    const cleanRun = await runUpload(['--jobs-root', jobs, '--user-id', clean, '--report', path.join(tree, 'clean.jsonl')], serviceEnv(stack));
    expect(cleanRun.code, cleanRun.stderr).toBe(0);
    const cleanReport = readReport(path.join(tree, 'clean.jsonl'));
    expect(cleanReport).toHaveLength(JOBS);

    const denoPid = stack.functions.pid();
    const report = path.join(tree, 'faulted.jsonl');
    const child = spawnUpload(['--jobs-root', jobs, '--user-id', faulted, '--report', report], serviceEnv(stack));
    const run = finished(child);
    let exited = false;
    void run.then(() => { exited = true; });
    while (!exited && (await reportedLines(report)) < JOBS / 4) await sleep(5);
    expect(exited, 'the upload ended before the fault').toBe(false);
    const reportedAtKill = await reportedLines(report);
    const timeline = await killPostmaster(stack);

    const deadline = setTimeout(() => child.kill('SIGKILL'), 240_000);
    const faultedRun = await run;
    clearTimeout(deadline);
    const context = `killed after ${reportedAtKill} reported jobs; ${timeline.join('; ')}`;
    expect(faultedRun.signal, `the upload hung: ${context}`).toBeNull();
    expect(faultedRun.code, `${context}\n${faultedRun.stderr}`).toBe(0);
    // The outage reached the uploader, and its retries carried it through.
    expect(faultedRun.stderr, context).toMatch(/retrying an ingest request/);

    const faultedReport = readReport(report);
    expect(faultedReport).toHaveLength(JOBS);
    expect(faultedReport.filter((l) => l.outcome === 'error'), context).toEqual([]);
    expect(settled(faultedReport)).toEqual(settled(cleanReport));
    expect(await userCounts(faulted, { sql, withoutTimingEvents: true }), context).toEqual(await userCounts(clean, { sql, withoutTimingEvents: true }));
    expect(await identities(sql, faulted), context).toEqual(await identities(sql, clean));
    // The functions lived through it: same process, healthy.
    expect(alive(denoPid)).toBe(true);
    expect(stack.functions.pid()).toBe(denoPid);
    if (process.env.FAULT_REPORT) console.log('(d)', { jobs: JOBS, reportedAtKill, timeline, stderr: faultedRun.stderr.slice(-2000) });
  }, 600_000);
});
