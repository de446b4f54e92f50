// The runner from argv to exit code, with its environment, output streams and signals injected:
// arguments → connection → xtb present? → health preflight → claim loop → summary.
// Exit 0: --help, or the loop ended (drained with --once, or stopped by a signal) and every item was reported;
// 1: some results could not be reported; 2: bad arguments, no xtb, a server it cannot use;
// 130: stopped hard by a second signal.
// Environment beyond the connection: QF_RUNNER_STATS_FILE (write the run's totals there as JSON, for
// the benchmark), QF_RUNNER_HEARTBEAT_MS (heartbeat more often than a third of the lease, for tests).
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { loadStackEnv } from '../stack/stack-env.ts';
import { commandFailure, readCommandLine } from '../lib/cli-args.ts';
import { parseRunnerArgs, USAGE, UsageError } from './args.ts';
import { FatalError, runLoop } from './claim-loop.ts';
import { preflight, resolveRunnerConnection, runnerClient, UnreachableError, type Env } from './connection.ts';
import { runProcess } from './process.ts';
import { batchesApi } from './report.ts';
import { formatItemLine, formatSummary, Tally } from './summary.ts';

export interface RunnerIo {
  env: Env;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** .local/stack.env by default. */
  stackEnv?: () => Promise<Env>;
  /** First signal: stop claiming, finish the items in flight. */
  stop?: AbortSignal;
  /** Second signal: kill xtb now. */
  kill?: AbortSignal;
}

export const EXIT = { ok: 0, notReported: 1, usage: 2, killed: 130 } as const;

/** `xtb --version` answers: the program is there and runs. Returns its version line, or throws. */
async function checkProgram(program: string, args: string[], name: string): Promise<string> {
  const run = await runProcess(program, args, { cwd: os.tmpdir(), env: process.env, timeoutMs: 30_000 });
  if (run.spawnError) throw new UsageError(`${name} not found (${program}: ${run.spawnError})`);
  const text = `${run.stdout}\n${run.stderr}`;
  const version = /xtb version\s+(\S+)/.exec(text)?.[1] ?? /Open Babel\s+(\S+)/.exec(text)?.[1];
  if (run.exitCode !== 0 && !version) throw new UsageError(`${program} does not run (exit ${run.exitCode ?? run.signal})`);
  return version ?? 'unknown version';
}

export async function main(argv: readonly string[], io: RunnerIo): Promise<number> {
  const started = performance.now();
  const say = (line: string) => io.stderr.write(`runner: ${line}\n`);
  const fail = commandFailure('runner', USAGE, io);

  const read = await readCommandLine('runner', USAGE, io, async () => ({
    args: parseRunnerArgs(argv, { cores: os.availableParallelism(), runnerId: `${os.hostname()}-${process.pid}` }),
    conn: resolveRunnerConnection(io.env, await (io.stackEnv ?? loadStackEnv)()),
  }));
  if (read.exit !== undefined) return read.exit;
  const { args, conn } = read.args;
  let xtbVersion: string;
  // The three checks are independent: run them side by side, report in this order.
  const [xtb, obabel, server] = await Promise.allSettled([
    checkProgram(args.xtb, ['--version'], 'xtb'),
    checkProgram(args.obabel, ['-V'], 'obabel'),
    preflight(conn),
  ]);
  if (xtb.status === 'rejected') {
    if (xtb.reason instanceof UsageError) return fail(EXIT.usage, `${xtb.reason.message}: install xtb (Debian: apt-get install xtb) or pass --xtb PATH`);
    throw xtb.reason;
  }
  xtbVersion = xtb.value;
  if (obabel.status === 'rejected') {
    say(`warning: ${(obabel.reason as Error).message}; items without a geometry will fail (install openbabel or pass --obabel PATH)`);
  }
  if (server.status === 'rejected') {
    if (server.reason instanceof UnreachableError) return fail(EXIT.usage, server.reason.message);
    throw server.reason;
  }

  const stop = io.stop ?? new AbortController().signal;
  const kill = io.kill ?? new AbortController().signal;
  say(`${args.runnerId}: xtb ${xtbVersion}, ${args.concurrency} at once, ${conn.mode === 'user' ? `items of ${conn.owner}` : 'items of every user'}` +
    `${args.batchId ? ` in batch ${args.batchId}` : ''}${args.once ? ', until none is left' : ''}`);
  const tally = new Tally(args.runnerId, args.concurrency);
  let fatal: string | undefined;
  const loopStarted = performance.now();
  tally.stats.startup_s = (loopStarted - started) / 1000;
  try {
    await runLoop({
      api: batchesApi(runnerClient(conn, {
        onRetry: ({ attempt, status, error }) => { if (attempt === 1 || attempt % 4 === 0) say(`retrying a request (attempt ${attempt + 1}, ${status ?? 'no answer'}: ${error})`); },
      })),
      runnerId: args.runnerId,
      allUsers: conn.allUsers,
      batchId: args.batchId,
      concurrency: args.concurrency,
      leaseSeconds: args.leaseSeconds,
      once: args.once,
      item: { xtb: args.xtb, obabel: args.obabel, timeoutS: args.timeoutS, keepRawOutput: args.keepRawOutput },
      stop, kill, tally,
      onItem: (r) => {
        io.stdout.write(`${formatItemLine(r)}\n`);
        for (const w of r.warnings) say(`  warning (${r.item.item_id}): ${w}`);
      },
      onNote: say,
      // For tests: heartbeat more often than a third of the lease.
      ...(Number(io.env.QF_RUNNER_HEARTBEAT_MS) > 0 ? { heartbeatMs: Number(io.env.QF_RUNNER_HEARTBEAT_MS) } : {}),
    });
  } catch (err) {
    if (!(err instanceof FatalError)) throw err;
    fatal = err.message;
  }
  tally.stats.wall_s = (performance.now() - started) / 1000;
  tally.stats.loop_s = (performance.now() - loopStarted) / 1000;
  const stopped = kill.aborted ? 'stopped hard: xtb was killed; those items return to pending when their leases expire'
    : stop.aborted ? 'stopped by a signal: claimed nothing more and finished the items in hand' : undefined;
  io.stdout.write(formatSummary(tally, stopped));
  if (io.env.QF_RUNNER_STATS_FILE) await writeFile(io.env.QF_RUNNER_STATS_FILE, JSON.stringify(tally.stats) + '\n');
  if (fatal) return fail(EXIT.usage, fatal);
  if (kill.aborted) return EXIT.killed;
  return tally.stats.counts.not_reported > 0 ? EXIT.notReported : EXIT.ok;
}
