// npm run bench:claim — the batch queue under load, over HTTP with the typed client: 20 concurrent
// runners each claim 10 items and complete them with small results, again and again, against a
// batch of 20,000 items. Two modes, each on its own batch and user:
//   single  one POST /complete per item (time-boxed, BENCH_SINGLE_SECONDS, default 30 s);
//   many    one POST /complete-many per claim of 10, until the batch is drained.
// Reports claims and completes per second, p50/p95 latency per call, end-to-end items per second,
// and checks that no item was handed out twice, that every completed item is linked both ways to
// its calculation, and that the batch counters equal a count(*) of the items by status.
//
// Environment: BENCH_ITEMS (20000), BENCH_RUNNERS (20), BENCH_CLAIM (10), BENCH_MODES (single,many),
// BENCH_SECONDS (0 = drain, for many), BENCH_SINGLE_SECONDS (30), BENCH_RECORD (1: append the table
// to bench/RESULTS.md; 0: print only).
// A fresh stack is started unless BENCH_STACK_ENV names a stack.env file of a running one.
import { availableParallelism } from 'node:os';
import postgres from 'postgres';
import { QfClient } from '../shared/client.ts';
import { addItems, claim, complete, completeMany, createBatch } from '../shared/client-batches.ts';
import type { CreateBatchItemInput } from '../shared/contract/batches.ts';
import { nodeSupabase } from '../scripts/lib/supabase.ts';
import { loadStackEnv } from '../scripts/stack/stack-env.ts';
import { resultFor } from '../test/support/payloads.ts';
import { startTestStack } from '../test/support/stack.ts';
import { createUser } from '../test/support/users.ts';
import { childCpuSeconds, cpuSeconds, cpuSpent } from './lib/proc-cpu.ts';
import { appendResults } from './lib/results.ts';
import { percentile, table } from './lib/table.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 20_000);
const RUNNERS = Number(process.env.BENCH_RUNNERS ?? 20);
const PER_CLAIM = Number(process.env.BENCH_CLAIM ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0);
/** The one-request-per-item mode is time-boxed: at tens of items per second it would take minutes. */
const SINGLE_SECONDS = Number(process.env.BENCH_SINGLE_SECONDS ?? 30);
const RECORD = process.env.BENCH_RECORD !== '0';
const CHUNK = 10_000;

async function connect() {
  if (process.env.BENCH_STACK_ENV) {
    const env = await loadStackEnv(process.env.BENCH_STACK_ENV);
    return { url: env.SUPABASE_URL, dbUrl: env.SUPABASE_DB_URL, jwtSecret: env.SUPABASE_JWT_SECRET, destroy: async () => {}, functions: undefined, postgres: undefined };
  }
  return await startTestStack();
}

const stack = await connect();
const sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });

/**
 * CPU seconds so far of the three parties (PostgreSQL's backends, the Deno functions, this process
 * with its runners), when the stack is this benchmark's own (as bench:release reads them); undefined
 * for a stack named by BENCH_STACK_ENV, whose processes may be elsewhere.
 */
function cpuNow(): { pg: Map<number, number>; deno: number; runners: number } | undefined {
  const denoPid = stack.functions?.pid();
  const postmasterPid = stack.postgres?.pid();
  if (!denoPid || !postmasterPid) return undefined;
  const own = process.cpuUsage();
  return { pg: childCpuSeconds(postmasterPid), deno: cpuSeconds(denoPid), runners: (own.user + own.system) / 1e6 };
}

interface Phase {
  label: string;
  rows: (string | number)[][];
  checks: string;
  ok: boolean;
}

/**
 * One batch of ITEMS items for a fresh user, drained by RUNNERS runners (or stopped after
 * `seconds`). `many`: each runner completes its claimed items in one complete-many request;
 * otherwise one complete request per item.
 */
async function phase(mode: 'single' | 'many', seconds: number): Promise<Phase> {
  const { token } = await createUser(sql, stack.jwtSecret);
  const client = () => new QfClient(nodeSupabase(stack.url, token));

  const items: CreateBatchItemInput[] = Array.from({ length: ITEMS }, (_, i) => ({ smiles: i % 2 ? 'C' : 'O' }));
  let t0 = performance.now();
  const { batch } = await createBatch(client(), { name: `bench:claim ${mode}`, items: items.slice(0, CHUNK) });
  for (let start = CHUNK; start < ITEMS; start += CHUNK) await addItems(client(), batch.id, { items: items.slice(start, start + CHUNK) });
  console.log(`[${mode}] created a batch of ${ITEMS} items in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const claimMs: number[] = [];
  const completeMs: number[] = [];
  const timesClaimed = new Map<string, number>();
  let completed = 0;
  let counter = 0;
  const deadline = seconds > 0 ? performance.now() + seconds * 1000 : Infinity;
  const runner = async (name: string) => {
    const qf = client();
    while (performance.now() < deadline) {
      let t = performance.now();
      const { items: got } = await claim(qf, { runner_id: name, batch_id: batch.id, limit: PER_CLAIM, lease_seconds: 600 });
      claimMs.push(performance.now() - t);
      if (got.length === 0) return;
      for (const it of got) timesClaimed.set(it.item_id, (timesClaimed.get(it.item_id) ?? 0) + 1);
      if (mode === 'many') {
        t = performance.now();
        const r = await completeMany(qf, { runner_id: name, items: got.map((it) => ({ item_id: it.item_id, result: resultFor(it, { shift: counter++ * 1e-5 }) })) });
        completeMs.push(performance.now() - t);
        completed += r.counts.completed;
      } else {
        for (const it of got) {
          t = performance.now();
          await complete(qf, { item_id: it.item_id, runner_id: name, result: resultFor(it, { shift: counter++ * 1e-5 }) });
          completeMs.push(performance.now() - t);
          completed++;
        }
      }
    }
  };
  const cpuBefore = cpuNow();
  t0 = performance.now();
  await Promise.all(Array.from({ length: RUNNERS }, (_, k) => runner(`bench-${k}`)));
  const wallS = (performance.now() - t0) / 1000;
  const cpuAfter = cpuNow();

  // Checks: no item handed out twice, every completion linked, counters equal count(*).
  const doubleClaims = [...timesClaimed.values()].filter((n) => n > 1).length;
  const [b] = await sql`select total_items, pending_items, claimed_items, completed_items from public.batch_jobs where id = ${batch.id}`;
  const byStatus = Object.fromEntries((await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from public.batch_items where batch_job_id = ${batch.id} group by status`).map((r) => [r.status, r.n]));
  const countersOk = b.completed_items === (byStatus.completed ?? 0) && b.pending_items === (byStatus.pending ?? 0) &&
    b.claimed_items === (byStatus.claimed ?? 0) && b.total_items === ITEMS;
  const [{ linked }] = await sql`
    select count(*)::int as linked from public.batch_items i join public.calculations k on k.id = i.calculation_id and k.batch_item_id = i.id
     where i.batch_job_id = ${batch.id} and i.status = 'completed'`;

  const byClaim = [...claimMs].sort((x, y) => x - y);
  const byComplete = [...completeMs].sort((x, y) => x - y);
  const claimed = [...timesClaimed.values()].reduce((a, n) => a + n, 0);
  const completeLabel = mode === 'many' ? `complete-many (${PER_CLAIM} per call)` : 'complete (1 per call)';
  const rows: (string | number)[][] = [
    [mode, `claim (limit ${PER_CLAIM})`, claimMs.length, claimed, claimMs.length / wallS, claimed / wallS, percentile(byClaim, 50), percentile(byClaim, 95)],
    [mode, completeLabel, completeMs.length, completed, completeMs.length / wallS, completed / wallS, percentile(byComplete, 50), percentile(byComplete, 95)],
    [mode, 'end to end: claimed and completed', claimMs.length + completeMs.length, completed, (claimMs.length + completeMs.length) / wallS, completed / wallS, '', ''],
  ];
  const checks = `- ${mode}: ${completed} of ${ITEMS} items claimed and completed in ${wallS.toFixed(1)} s ` +
    `(${seconds > 0 ? `stopped after ${seconds} s` : 'drained'}); double claims: ${doubleClaims}; ` +
    `completed items linked both ways to their calculation: ${linked}; counters equal count(*) by status: ${countersOk ? 'yes' : 'NO'}`;
  return { label: mode, rows, checks: checks + cpuLine(mode, completed, cpuBefore, cpuAfter), ok: doubleClaims === 0 && countersOk && linked === completed };
}

/**
 * Where the time went: CPU milliseconds per completed item of each party, and the rate those alone
 * allow on this machine's cores (each party's CPU per item summed, against the cores there are).
 */
function cpuLine(mode: string, items: number, before: ReturnType<typeof cpuNow>, after: ReturnType<typeof cpuNow>): string {
  if (!before || !after || items === 0) return '';
  const ms = (s: number) => (s * 1000) / items;
  const pg = ms(cpuSpent(before.pg, after.pg));
  const deno = ms(after.deno - before.deno);
  const runners = ms(after.runners - before.runners);
  const cores = availableParallelism();
  return `\n- ${mode}: CPU per completed item: PostgreSQL ${pg.toFixed(2)} ms, Deno functions ${deno.toFixed(2)} ms, ` +
    `the ${RUNNERS} runners (this process) ${runners.toFixed(2)} ms; on ${cores} cores these alone allow ` +
    `${((cores * 1000) / (pg + deno + runners)).toFixed(0)} items/s`;
}

try {
  const modes = (process.env.BENCH_MODES ?? 'single,many').split(',') as ('single' | 'many')[];
  const phases: Phase[] = [];
  for (const mode of modes) phases.push(await phase(mode, mode === 'single' ? SINGLE_SECONDS : SECONDS));
  console.log(`\n${RUNNERS} runners, ${PER_CLAIM} items per claim, batches of ${ITEMS} items\n`);
  const out = table(['mode', 'call', 'calls', 'items', 'calls/s', 'items/s', 'p50 ms', 'p95 ms'], phases.flatMap((p) => p.rows));
  const best = Math.max(...phases.map((p) => Number(p.rows[2][5])));
  const checks = [...phases.map((p) => p.checks), `- best end-to-end rate ${best.toFixed(0)} items/s; goal ≥ 1,000: ${best >= 1000 ? 'met' : 'not met'}`].join('\n');
  console.log('\n' + checks);
  if (RECORD) {
    await appendResults('bench:claim', `${RUNNERS} concurrent runners over HTTP (typed client), ${PER_CLAIM} items per claim, small results (3–5 atoms), one batch of ${ITEMS} items per mode; ` +
      `single: one complete request per item; many: one complete-many request per claim`, out + '\n\n' + checks);
  }
  if (phases.some((p) => !p.ok)) process.exitCode = 1;
} finally {
  await sql.end();
  await stack.destroy();
}
