// npm run bench:upload — the uploader end to end, as users run it: writes a tree of N synthetic jobs
// (bench/make-jobs.ts, default 10,000), then runs the CLI three times in child processes:
//   (a) --dry-run: walk, parse and check only, the floor the upload is measured against;
//   (b) the upload into an empty account;
//   (c) the same upload again, where every job is already stored (all duplicates).
// Rates are the uploader's own (first job to summary); peak RSS is the uploader process's maxRSS.
// Starts its own stack (test/support/stack.ts), or uses `npm start`'s with BENCH_STACK=local.
// Prints a table and appends it to bench/RESULTS.md.
//
//   BENCH_UPLOAD_N=10000 BENCH_CONCURRENCY=4 BENCH_BATCH=200 npm run bench:upload
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadStackEnv } from '../scripts/stack/stack-env.ts';
import { finished, spawnScript } from '../test/support/child.ts';
import { startTestStack, type TestStack } from '../test/support/stack.ts';
import { makeJobs } from './make-jobs.ts';
import { appendResults } from './lib/results.ts';
import { table } from './lib/table.ts';
import { insertUser } from '../test/support/users.ts';

const N = Number(process.env.BENCH_UPLOAD_N ?? 10_000);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '4';
const BATCH = process.env.BENCH_BATCH ?? '200';
const GOAL_RATE = 500;
const GOAL_SHARE = 0.5;
const GOAL_RSS_MB = 300;

interface Pass {
  name: string;
  jobs: number;
  seconds: number;
  rate: number;
  rssMb: number;
  code: number | null;
  summary: string;
}

async function runCli(name: string, args: string[], env: Record<string, string>): Promise<Pass> {
  const { code, stdout, stderr } = await finished(spawnScript('scripts/upload.ts', args, env));
  const m = /^(\d+) jobs in ([\d.]+) s \((\d+) jobs\/s\), peak RSS (\d+) MB$/m.exec(stdout);
  if (!m) throw new Error(`${name}: no summary (exit ${code})\n${stdout}\n${stderr}`);
  return { name, jobs: Number(m[1]), seconds: Number(m[2]), rate: Number(m[1]) / Number(m[2]), rssMb: Number(m[4]), code, summary: stdout };
}

let stack: TestStack | undefined;
let conn: { url: string; serviceRoleKey: string; dbUrl: string };
if (process.env.BENCH_STACK === 'local') {
  const env = await loadStackEnv();
  if (!env.SUPABASE_URL || !env.SUPABASE_SERVICE_ROLE_KEY || !env.SUPABASE_DB_URL) throw new Error('BENCH_STACK=local: run `npm start` first');
  conn = { url: env.SUPABASE_URL, serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY, dbUrl: env.SUPABASE_DB_URL };
} else {
  stack = await startTestStack();
  conn = { url: stack.url, serviceRoleKey: stack.serviceRoleKey, dbUrl: stack.dbUrl };
}
const tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-upload-'));
const sql = postgres(conn.dbUrl, { max: 1, onnotice: () => {} });
try {
  const root = path.join(tmp, 'jobs');
  let t0 = performance.now();
  await makeJobs({ out: root, count: N });
  const genSeconds = (performance.now() - t0) / 1000;
  console.log(`wrote ${N} jobs in ${genSeconds.toFixed(1)} s`);

  const userId = await insertUser(sql);
  const env = { SUPABASE_URL: conn.url, SUPABASE_SERVICE_ROLE_KEY: conn.serviceRoleKey };
  const common = ['--jobs-root', root, '--concurrency', CONCURRENCY, '--batch-size', BATCH];

  // Warm the functions (first request loads RDKit into the isolate), so (b) measures steady state.
  await runCli('warm-up', ['--jobs-root', root, '--user-id', userId, '--limit', '50'], env);
  await sql`delete from public.molecules where user_id = ${userId}`;

  const dry = await runCli('parse only (--dry-run)', [...common, '--dry-run'], env);
  t0 = performance.now();
  const upload = await runCli('upload, empty account', [...common, '--user-id', userId], env);
  const again = await runCli('upload again (all duplicates)', [...common, '--user-id', userId], env);
  const [{ calcs }] = await sql`select count(*)::int as calcs from public.calculations where user_id = ${userId}`;

  const rows = [dry, upload, again].map((p) => [p.name, p.jobs, p.seconds, p.rate, p.rssMb, String(p.code ?? 'killed')]);
  const body = table(['pass', 'jobs', 'seconds', 'jobs/s', 'peak RSS MB', 'exit'], rows);
  const share = upload.rate / dry.rate;
  const peak = Math.max(dry.rssMb, upload.rssMb, again.rssMb);
  const verdict = [
    `end to end ${upload.rate.toFixed(0)} jobs/s (goal ≥ ${GOAL_RATE}): ${upload.rate >= GOAL_RATE ? 'met' : 'NOT met'}`,
    `${(share * 100).toFixed(0)}% of the parse-only rate (goal ≥ ${GOAL_SHARE * 100}%): ${share >= GOAL_SHARE ? 'met' : 'NOT met'}`,
    `peak RSS ${peak} MB (goal < ${GOAL_RSS_MB} MB): ${peak < GOAL_RSS_MB ? 'met' : 'NOT met'}`,
    `${calcs} calculations stored; the second run stored nothing new: ${/^created\s+0$/m.test(again.summary) ? 'yes' : 'NO'}`,
  ].join('\n');
  console.log(`\n${verdict}`);
  const setup = `${N} generated jobs (bench/make-jobs.ts: the fixture sample's mix, copies perturbed), ` +
    `--concurrency ${CONCURRENCY} --batch-size ${BATCH}, ${stack ? 'a fresh test stack' : 'the `npm start` stack'}, ` +
    `load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`;
  await appendResults('upload', setup, `${body}\n\n${verdict}`);
} finally {
  await sql.end();
  await rm(tmp, { recursive: true, force: true });
  await stack?.destroy();
}
