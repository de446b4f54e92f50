// npm run bench:cpu — Deno CPU seconds per request, read from /proc/<deno pid>/stat (utime + stime
// before and after, one request at a time), for each route's worst case at its documented limits,
// against the hosted budget of 2 s of CPU per request (issue 17):
//   ingest     1,000 distinct new molecules (chains of 2–80 heavy atoms), in one request and then
//              as the typed client goes on (deferred items sent again); 800 of the worst SMILES
//              under the heavy-atom cap (symmetric 498-atom chains: InChI needs seconds each);
//              1,000 items near the 25 MB body limit of molecules already known;
//   batches    creation of 10,000 items of distinct new molecules (503 identification_budget,
//              sent again by the typed client) and of 10,000 items of known molecules;
//   query      a page of 1,000 calculations, /stats, an export of BENCH_CPU_EXPORT_N rows (one
//              part: MAX_EXPORT_LIMIT, 50,000, by default);
//   upload     BENCH_CPU_UPLOAD_N (2,000) jobs of distinct molecules with the uploader's defaults
//              (one request in flight, so that each request's CPU is its own).
// Baselines measured in the same run: the same 1,000 molecules sent again once known (RDKit's
// share), and, on a second stack with every budget lifted (RDKit, request CPU, atoms; the old
// 25 MB body), the 1,000 new molecules in one request as the code did before the budgets.
// Prints a table and appends it to bench/RESULTS.md with the date, the core count and the load.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { QfClient, type Invoker } from '../shared/client.ts';
import { INGEST_DEFAULT_MAX_BYTES } from '../shared/contract/ingest.ts';
import { MAX_EXPORT_LIMIT } from '../shared/contract/query.ts';
import { readEnv } from '../supabase/functions/_shared/env.ts';
import { createBatch } from '../shared/client-batches.ts';
import { loadRDKit } from '../shared/chem/rdkit.ts';
import { nodeSupabase } from '../scripts/lib/supabase.ts';
import { parseUploadArgs } from '../scripts/upload/args.ts';
import { runPipeline } from '../scripts/upload/pipeline.ts';
import { makeSender } from '../scripts/upload/send.ts';
import { startTestStack, type TestStack } from '../test/support/stack.ts';
import { benchCalculation, distinctMolecules, zigzag, type BenchMolecule } from './lib/distinct-molecules.ts';
import { cpuSeconds } from './lib/proc-cpu.ts';
import { appendResults } from './lib/results.ts';
import { table } from './lib/table.ts';
import { makeDistinctMoleculeJobs } from './make-jobs.ts';
import { seedCalculations } from './seed-calculations.ts';
import { createUser } from '../test/support/users.ts';

const BUDGET_S = 2;
const INGEST_N = Number(process.env.BENCH_CPU_INGEST_N ?? 1000);
const BATCH_N = Number(process.env.BENCH_CPU_BATCH_N ?? 10_000);
const UPLOAD_N = Number(process.env.BENCH_CPU_UPLOAD_N ?? 2000);
const SEED_N = Number(process.env.BENCH_CPU_SEED_N ?? 100_000);
// An export's documented limit: one response holds at most MAX_EXPORT_LIMIT calculations.
const EXPORT_N = Number(process.env.BENCH_CPU_EXPORT_N ?? MAX_EXPORT_LIMIT);
const BIG_ITEMS = Number(process.env.BENCH_CPU_BIG_ITEMS ?? 1000);
const PATHOLOGICAL_N = Number(process.env.BENCH_CPU_PATHOLOGICAL_N ?? 800);

/** BENCH_CPU_ONLY=ingest,batches,…: run only these sections (baseline, ingest, pathological, big, batches, query, upload). */
const ONLY = process.env.BENCH_CPU_ONLY?.split(',');
const want = (section: string) => !ONLY || ONLY.includes(section);

interface Sample { route: string; status: number; cpu: number }

/** An invoker that reads Deno's CPU before and after each request (one request at a time). */
function measured(stack: TestStack, token: string, samples: Sample[], label: () => string): Invoker {
  const supabase = nodeSupabase(stack.url, token);
  const pid = stack.functions.pid()!;
  return {
    functions: {
      invoke: (async (...args: Parameters<typeof supabase.functions.invoke>) => {
        const before = cpuSeconds(pid);
        const result = await supabase.functions.invoke(...args);
        const context = (result.error as { context?: unknown } | null)?.context;
        samples.push({ route: label(), status: context instanceof Response ? context.status : 200, cpu: cpuSeconds(pid) - before });
        return result;
      }) as typeof supabase.functions.invoke,
    },
  } as Invoker;
}

async function raw(stack: TestStack, token: string, method: string, route: string, body?: string) {
  const pid = stack.functions.pid()!;
  const before = cpuSeconds(pid);
  const res = await fetch(`${stack.url}/functions/v1/${route}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body,
  });
  const text = await res.text();
  return { status: res.status, text, cpu: cpuSeconds(pid) - before };
}

/** `N created`, or the status and error code of a request that was not answered 200. */
function answered(r: { status: number; text: string }): string {
  const parsed = JSON.parse(r.text) as { counts?: { created: number }; error?: { code: string } };
  return r.status === 200 ? `${parsed.counts?.created} created` : `HTTP ${r.status} ${parsed.error?.code ?? ''}`.trim();
}

const newUser = (sql: postgres.Sql, stack: TestStack) => createUser(sql, stack.jwtSecret);

const rows: (string | number)[][] = [];
const summarise = (what: string, samples: Sample[], note = '') => {
  const cpus = samples.map((s) => s.cpu);
  const max = Math.max(...cpus);
  const row = [what, String(samples.length), cpus[0].toFixed(2), max.toFixed(2), cpus.reduce((a, b) => a + b, 0).toFixed(2),
    String(cpus.filter((c) => c > BUDGET_S).length), note];
  rows.push(row);
  console.log(row.join(' | '));
};

const loadBefore = os.loadavg();
const rdkit = await loadRDKit();
const molecules = distinctMolecules(rdkit, INGEST_N);
const body = (items: unknown[]) => JSON.stringify({ calculations: items });

// ------------------------------------------------------------------------------------------
// Baseline: the RDKit budget lifted, as before it existed (its own stack and database).
if (want('baseline')) {
  const lifted = '1000000000';
  const stack = await startTestStack({
    RDKIT_BUDGET_MS: lifted, REQUEST_CPU_BUDGET_MS: lifted, INGEST_MAX_ATOMS: lifted, INGEST_MAX_BYTES: String(25 * 1024 * 1024),
  });
  const sql = postgres(stack.dbUrl, { max: 2, onnotice: () => {} });
  try {
    const user = await newUser(sql, stack);
    await raw(stack, user.token, 'POST', 'ingest', body([benchCalculation({ smiles: 'O', formula: 'H2O', symbols: ['O', 'H', 'H'] })])); // load RDKit
    const r = await raw(stack, user.token, 'POST', 'ingest', body(molecules.map((m, i) => benchCalculation(m, i))));
    summarise(`baseline: ingest ${INGEST_N} new molecules, budgets lifted (as before them)`, [{ route: 'ingest', status: r.status, cpu: r.cpu }],
      `${(body(molecules.map((m, i) => benchCalculation(m, i))).length / 1e6).toFixed(1)} MB; ${answered(r)}`);
  } finally {
    await sql.end();
    await stack.destroy();
  }
}

const stack = await startTestStack();
const sql = postgres(stack.dbUrl, { max: 4, onnotice: () => {} });
const work = await mkdtemp(path.join(os.tmpdir(), 'qf-bench-cpu-'));
try {
  // --- cold start: the first request that needs RDKit loads it ---------------------------------
  {
    const user = await newUser(sql, stack);
    const water = { molecule: { smiles: 'O' }, method: 'GFN2-xTB', task: 'sp', status: 'completed', geometry: zigzag(['O', 'H', 'H']), results: { total_energy_eh: -5 } };
    const cold = await raw(stack, user.token, 'POST', 'ingest', body([water]));
    const warm = await raw(stack, user.token, 'POST', 'ingest', body([{ ...water, geometry: zigzag(['O', 'H', 'H'], 1) }]));
    summarise('cold start: the first ingest of an isolate (loads RDKit), then the second', [
      { route: 'ingest', status: cold.status, cpu: cold.cpu }, { route: 'ingest', status: warm.status, cpu: warm.cpu }]);
  }

  // --- ingest: 1,000 new molecules ------------------------------------------------------------
  if (want('ingest')) {
    const user = await newUser(sql, stack);
    const items = molecules.map((m, i) => benchCalculation(m, i));
    const first = await raw(stack, user.token, 'POST', 'ingest', body(items));
    const answer = JSON.parse(first.text);
    summarise(`ingest ${INGEST_N} new molecules: the first request`, [{ route: 'ingest', status: first.status, cpu: first.cpu }],
      `${answer.counts.created} created, ${answer.counts.deferred} deferred`);
    const samples: Sample[] = [];
    const client = new QfClient(measured(stack, user.token, samples, () => 'ingest'), { maxItemsPerRequest: INGEST_N });
    const results = await client.ingest(items);
    summarise(`ingest ${INGEST_N} new molecules: the typed client until all stored`, samples,
      `then ${results.filter((r) => r.outcome === 'created').length} created, ${results.filter((r) => r.outcome === 'duplicate').length} duplicate`);
    // The same items again: every molecule known, no RDKit.
    const again = await raw(stack, user.token, 'POST', 'ingest', body(items.map((c) => ({ ...c, results: { ...c.results!, total_energy_eh: c.results!.total_energy_eh - 1 } }))));
    summarise(`baseline: the same ${INGEST_N} again, molecules known`, [{ route: 'ingest', status: again.status, cpu: again.cpu }],
      `${JSON.parse(again.text).counts.duplicate} duplicate`);
  }

  // --- ingest: the worst SMILES under the cap -------------------------------------------------
  if (want('pathological')) {
    const user = await newUser(sql, stack);
    // Each a different string (one Cl moves along the chain), so none is answered from memory.
    // Each a different molecule (a Cl and a Br along the chain), so none is answered from memory;
    // as many as the body limit takes.
    const symbols = [...Array<string>(166).fill('C'), ...Array<string>(330).fill('F'), 'Cl', 'Br', 'H', 'H'];
    const one = (i: number) => {
      const units = Array<string>(166).fill('C(F)(F)');
      const a = i % 166;
      units[a] = 'C(F)(Cl)';
      units[(a + 1 + Math.floor(i / 166)) % 166] = 'C(F)(Br)';
      return {
        molecule: { smiles: units.join('') }, method: 'GFN2-xTB', task: 'sp', status: 'completed',
        geometry: zigzag(symbols, i), results: { total_energy_eh: -1 },
      };
    };
    const fits = Math.floor((INGEST_DEFAULT_MAX_BYTES * 0.95) / (JSON.stringify(one(1)).length + 1));
    const items = Array.from({ length: Math.min(PATHOLOGICAL_N, fits) }, (_, i) => one(i));
    const text = body(items);
    const r = await raw(stack, user.token, 'POST', 'ingest', text);
    const counts = JSON.parse(r.text).counts;
    summarise(`ingest ${items.length} distinct (CF2)×164 C(F)Cl C(F)Br chains (498 heavy atoms)`, [{ route: 'ingest', status: r.status, cpu: r.cpu }],
      `${(text.length / 1e6).toFixed(1)} MB; ${counts.rejected} rejected (InChI limit), ${counts.deferred} deferred (budget or atoms)`);
  }

  // --- ingest: near the body limit, molecules known -------------------------------------------
  if (want('big')) {
    const user = await newUser(sql, stack);
    const big: BenchMolecule = { smiles: 'C'.repeat(60), formula: 'C60H122', symbols: [...Array<string>(60).fill('C'), ...Array<string>(122).fill('H')] };
    const one = (i: number) => {
      const c = benchCalculation(big, i);
      return { ...c, task: 'grad', gradient: c.geometry.map((_, k) => [1e-4 * k, -2e-4 * k, 3e-5 * i] as [number, number, number]) };
    };
    // As many as the body limit takes (BENCH_CPU_BIG_ITEMS at most).
    const perItem = JSON.stringify(one(1)).length + 1;
    const items = Array.from({ length: Math.min(BIG_ITEMS, Math.floor((INGEST_DEFAULT_MAX_BYTES * 0.95) / perItem)) }, (_, i) => one(i));
    const text = body(items);
    await raw(stack, user.token, 'POST', 'ingest', body([items[0]])); // the molecule, once
    const r = await raw(stack, user.token, 'POST', 'ingest', text);
    summarise(`ingest ${items.length} × 182 atoms with gradients (the body limit), molecule known`, [{ route: 'ingest', status: r.status, cpu: r.cpu }],
      `HTTP ${r.status}, ${(text.length / 1e6).toFixed(1)} MB; ${JSON.parse(r.text).counts?.created} created, ${JSON.parse(r.text).counts?.deferred} deferred (atoms limit)`);
  }

  // --- batches: 10,000 items ------------------------------------------------------------------
  if (want('batches')) {
    const user = await newUser(sql, stack);
    const batchMolecules = distinctMolecules(rdkit, BATCH_N, 7);
    const samples: Sample[] = [];
    const client = new QfClient(measured(stack, user.token, samples, () => 'batches'));
    const items = batchMolecules.map((m) => ({ smiles: m.smiles }));
    const created = await createBatch(client, { name: 'cpu', items });
    summarise(`create a batch of ${BATCH_N} new molecules (typed client, 503s sent again)`, samples,
      `${created.counts.molecules_created} molecules created`);
    const known: Sample[] = [];
    await createBatch(new QfClient(measured(stack, user.token, known, () => 'batches')), { name: 'cpu again', items });
    summarise(`baseline: the same ${BATCH_N} items again, molecules known`, known);
  }

  // --- query ----------------------------------------------------------------------------------
  if (want('query')) {
    const user = await newUser(sql, stack);
    await seedCalculations(sql, { userId: user.id, n: SEED_N });
    const page = await raw(stack, user.token, 'GET', 'query/calculations?limit=1000&energy_min=-1000&sort=energy&order=desc');
    summarise(`query: a page of 1,000 of ${SEED_N.toLocaleString('en-US')} calculations`, [{ route: 'query', status: page.status, cpu: page.cpu }]);
    const withAtoms = await raw(stack, user.token, 'GET', 'query/calculations?limit=1000&elements=C,N,O');
    summarise('query: a page of 1,000 filtered by elements', [{ route: 'query', status: withAtoms.status, cpu: withAtoms.cpu }]);
    const stats = await raw(stack, user.token, 'GET', 'query/stats');
    summarise(`query: /stats over ${SEED_N.toLocaleString('en-US')}`, [{ route: 'query', status: stats.status, cpu: stats.cpu }]);
    for (const format of ['extxyz', 'ndjson'] as const) {
      const ex = await raw(stack, user.token, 'GET', `query/export?format=${format}&limit=${EXPORT_N}`);
      summarise(`query: export of ${EXPORT_N.toLocaleString('en-US')} calculations as ${format}`, [{ route: 'query', status: ex.status, cpu: ex.cpu }],
        `${(ex.text.length / 1e6).toFixed(1)} MB; ${Math.round(EXPORT_N / Math.max(ex.cpu, 0.01)).toLocaleString('en-US')} rows per CPU second`);
    }
  }

  // --- upload: jobs of distinct molecules with the uploader's defaults -------------------------
  if (want('upload')) {
    const user = await newUser(sql, stack);
    const root = path.join(work, 'jobs');
    await makeDistinctMoleculeJobs({ out: root, count: UPLOAD_N, offset: 1000 });
    const args = parseUploadArgs(['--jobs-root', root]);
    const samples: Sample[] = [];
    const client = new QfClient(measured(stack, user.token, samples, () => 'ingest'), { maxItemsPerRequest: args.batchSize });
    const outcomes = new Map<string, number>();
    await runPipeline({
      root, batchSize: args.batchSize, concurrency: 1, send: makeSender(client, undefined),
      emit: (r) => { outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1); },
    });
    summarise(`upload ${UPLOAD_N} jobs of new molecules, --batch-size ${args.batchSize} (default), one request in flight`, samples,
      [...outcomes].map(([k, v]) => `${v} ${k}`).join(', '));
  }
} finally {
  await sql.end();
  await stack.destroy();
  await rm(work, { recursive: true, force: true });
}

const loadAfter = os.loadavg();
const defaults = readEnv(() => undefined);
const headers = ['case', 'requests', 'first (s)', 'max (s)', 'total (s)', `over ${BUDGET_S} s`, 'notes'];
const out = table(headers, rows);
await appendResults('bench:cpu — Deno CPU seconds per request (hosted budget 2 s)',
  `Deno CPU read from /proc/<pid>/stat around each request, one request at a time. Defaults: RDKIT_BUDGET_MS ${defaults.rdkitBudgetMs}, ` +
  `REQUEST_CPU_BUDGET_MS ${defaults.requestCpuBudgetMs}, INCHI_TIMEOUT_MS ${defaults.inchiTimeoutMs}, INGEST_MAX_ATOMS ${defaults.ingestMaxAtoms}, ` +
  `INGEST_MAX_BYTES ${defaults.ingestMaxBytes}. Load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ` +
  `${loadAfter.map((l) => l.toFixed(1)).join(' ')} after.`, out);
process.exit(0);
