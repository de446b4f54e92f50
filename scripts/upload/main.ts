// The uploader from argv to exit code, with its environment and output streams injected:
// arguments → connection and preflight (not in a dry run) → pipeline → report, progress, summary.
// Exit 0: every job got an outcome other than `error` (or --help); 1: some did not; 2: bad arguments, an
// unreachable server or a refused key.
import { loadStackEnv } from '../stack/stack-env.ts';
import { dryRunChecks } from './dry-run-checks.ts';
import { commandFailure, readCommandLine } from '../lib/cli-args.ts';
import { checkJobsRoot, parseUploadArgs, USAGE } from './args.ts';
import { clientFor, preflight, resolveConnection, UnreachableError, type Env } from '../lib/connection.ts';
import type { JobReport } from './outcomes.ts';
import { runPipeline } from './pipeline.ts';
import { startProgress } from './progress.ts';
import { ReportWriter } from './report-writer.ts';
import { describeFailure, isFatal, makeSender } from './send.ts';
import { formatSummary, Tally } from './summary.ts';

export interface UploadIo {
  env: Env;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** .local/stack.env by default. */
  stackEnv?: () => Promise<Env>;
  /** Aborting stops taking new jobs (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

export const EXIT = { ok: 0, someErrors: 1, usage: 2 } as const;

export async function main(argv: readonly string[], io: UploadIo): Promise<number> {
  const started = performance.now();
  const fail = commandFailure('upload', USAGE, io);

  const read = await readCommandLine('upload', USAGE, io, async () => {
    const args = parseUploadArgs(argv);
    await checkJobsRoot(args.jobsRoot);
    const conn = args.dryRun ? undefined : resolveConnection(args.userId, io.env, await (io.stackEnv ?? loadStackEnv)());
    return { args, conn };
  });
  if (read.exit !== undefined) return read.exit;
  const { args, conn } = read.args;
  if (conn) {
    try {
      await preflight(conn);
    } catch (err) {
      if (err instanceof UnreachableError) return fail(EXIT.usage, err.message);
      throw err;
    }
  }

  let report: ReportWriter | undefined;
  if (args.report) {
    try {
      report = await ReportWriter.open(args.report);
    } catch (err) {
      return fail(EXIT.usage, `--report ${args.report}: ${(err as Error).message}`, true);
    }
  }

  const tally = new Tally();
  const emit = async (r: JobReport) => {
    tally.add(r);
    await report?.write(r);
  };
  const progress = startProgress({ done: () => tally.done, counts: () => tally.counts }, {
    stream: io.stderr,
    tty: io.stderr.isTTY === true,
    dryRun: args.dryRun,
    intervalMs: Number(io.env.QF_UPLOAD_PROGRESS_MS) > 0 ? Number(io.env.QF_UPLOAD_PROGRESS_MS) : 5000,
    root: args.jobsRoot,
    limit: args.limit,
  });
  const walkErrors: string[] = [];
  let result;
  try {
    const client = conn && clientFor(conn, {
      maxItemsPerRequest: args.batchSize,
      onRetry: ({ attempt, status, error }) => {
        if (attempt === 1 || attempt % 4 === 0) io.stderr.write(`upload: retrying an ingest request (attempt ${attempt + 1}, ${status ?? 'no answer'}: ${error})\n`);
      },
    });
    result = await runPipeline({
      root: args.jobsRoot,
      limit: args.limit,
      batchSize: args.batchSize,
      concurrency: args.concurrency,
      keepRawOutput: args.keepRawOutput,
      ...(client
        ? { send: makeSender(client, conn!.userId) }
        : { check: await dryRunChecks() }),
      isFatal,
      describe: describeFailure,
      emit,
      onWalkError: (ev) => {
        walkErrors.push(ev.path);
        io.stderr.write(`upload: cannot read directory ${ev.path || '.'}: ${ev.error} (jobs below it were not seen)\n`);
      },
      signal: io.signal,
    });
  } finally {
    progress.stop();
    await report?.close();
  }

  let stopped: string | undefined;
  if (result.fatal !== undefined) stopped = `stopped early: ${describeFailure(result.fatal)}`;
  else if (io.signal?.aborted) stopped = `interrupted after ${tally.done} jobs: the rest of the tree was not looked at; run again to finish (re-running is safe)`;
  else if (result.stoppedEarly && args.limit !== undefined) stopped = `stopped after --limit ${args.limit} jobs`;
  io.stdout.write(formatSummary({
    tally,
    walk: result.walk,
    seconds: (performance.now() - started) / 1000,
    dryRun: args.dryRun,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ...(stopped ? { stopped } : {}),
    ...(args.report ? { reportFile: args.report } : {}),
  }));
  if (result.fatal !== undefined) return fail(EXIT.usage, describeFailure(result.fatal));
  return tally.counts.error > 0 || walkErrors.length > 0 || io.signal?.aborted ? EXIT.someErrors : EXIT.ok;
}
