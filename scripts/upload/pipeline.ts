// The upload pipeline: a streaming walk (a few directories ahead) → read and parse, one job at a
// time on this thread → batches → ingest requests, at most `concurrency` in flight. When every
// request slot is taken the parser waits, so memory stays flat whatever the tree size: at most
// `(concurrency + 1) × batchSize` parsed jobs are held. Every job the walk yields (up to `limit`)
// gets exactly one report through `emit`.
import type { IngestItemResult } from '../../shared/contract/ingest.ts';
import {
  newWalkCounts, parseJobFiles, readJobDirectory, walkJobs, withFiles, type ParsedJob, type WalkCounts, type WalkEvent,
} from '../../shared/xtb/index.ts';
import { fromDryRun, fromFailure, fromIngest, fromParse, type JobReport } from './outcomes.ts';
import { Slots } from './slots.ts';

export interface PipelineOptions {
  root: string;
  /** Stop after this many job directories. */
  limit?: number;
  /** Walk events requested ahead of the parser (default 64). */
  walkAhead?: number;
  /** Jobs per ingest request. */
  batchSize: number;
  /** Ingest requests in flight at once. */
  concurrency: number;
  /**
   * Sends one batch and returns one result per job, in order. Throws when the whole request failed
   * for good (after the client's retries). Absent in a dry run.
   */
  send?: (jobs: readonly ParsedJob[]) => Promise<IngestItemResult[]>;
  /** Dry run: the server's molecule checks done locally; returns the rejection, or null. */
  check?: (job: ParsedJob) => string | null;
  /** An error after which nothing more should be sent (a refused key): the run stops. */
  isFatal?: (err: unknown) => boolean;
  /** How a failed request is told in the report. */
  describe?: (err: unknown) => string;
  emit: (report: JobReport) => void | Promise<void>;
  /** A directory the walk could not read: jobs below it were not seen. */
  onWalkError?: (event: Extract<WalkEvent, { kind: 'error' }>) => void;
  /** Aborting stops taking new jobs; those already taken are finished and reported. */
  signal?: AbortSignal;
  /** Send each job's xtb.out (gzip) to be stored with its result; its SHA-256 is sent either way. */
  keepRawOutput?: boolean;
  walkCounts?: WalkCounts;
}

export interface PipelineResult {
  /** Job directories taken from the walk (each got one report). */
  jobs: number;
  walk: WalkCounts;
  /** Set when a fatal error stopped the run early. */
  fatal?: unknown;
  /** The walk was stopped by `limit` or the signal rather than reaching its end. */
  stoppedEarly: boolean;
}

const byPath = (a: ParsedJob, b: ParsedJob) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const lastSegment = (p: string) => p.split('/').filter(Boolean).pop() ?? p;

type Read = { job: ParsedJob } | { report: JobReport };

const failed = (event: { path: string }, message: string): Read =>
  ({ report: fromFailure({ path: event.path, job_id: lastSegment(event.path), warnings: [] }, message) });

/**
 * Reads and parses one job directory, with the provenance of its files; a directory that vanished
 * or cannot be read is an `error`.
 */
function readAndParse(event: Extract<WalkEvent, { kind: 'job' }>, keepRawOutput: boolean): Read {
  let read;
  try {
    read = readJobDirectory(event.dir, keepRawOutput);
  } catch (err) {
    return failed(event, `cannot read the job directory: ${(err as Error).message}`);
  }
  try {
    const job = parseJobFiles(event.path, read.files);
    return { job: job.calculation ? { ...job, calculation: withFiles(job.calculation, read.run) } : job };
  } catch (err) {
    return failed(event, `the parser failed: ${(err as Error).message}`);
  }
}

/**
 * Keeps up to `size` items of an async iterable requested ahead, so the walk's file-system calls
 * run in the thread pool while this thread parses. Async generators queue `next()` calls in order.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const ahead: Promise<IteratorResult<T>>[] = [];
  const request = () => {
    const p = it.next();
    p.catch(() => {}); // awaited below; this only keeps an abandoned one from being "unhandled"
    ahead.push(p);
  };
  try {
    for (let i = 0; i < size; i++) request();
    for (;;) {
      const r = await ahead.shift()!;
      if (r.done) return;
      request();
      yield r.value;
    }
  } finally {
    await it.return?.(undefined);
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const walk = o.walkCounts ?? newWalkCounts();
  const sends = new Slots(o.concurrency);
  const describe = o.describe ?? ((err: unknown) => (err as Error)?.message ?? String(err));
  let batch: ParsedJob[] = [];
  let fatal: unknown;
  let jobs = 0;
  let stoppedEarly = false;

  const sendBatch = async (sending: ParsedJob[]): Promise<void> => {
    if (fatal !== undefined) {
      for (const job of sending) await o.emit(fromFailure(job, `not sent: ${describe(fatal)}`));
      return;
    }
    let results: IngestItemResult[];
    try {
      results = await o.send!(sending);
      if (results.length !== sending.length) throw new Error(`the server answered ${results.length} results for ${sending.length} items`);
    } catch (err) {
      if (o.isFatal?.(err)) fatal ??= err;
      for (const job of sending) await o.emit(fromFailure(job, describe(err)));
      return;
    }
    for (let i = 0; i < sending.length; i++) await o.emit(fromIngest(sending[i], results[i]));
  };

  // Requests run detached; flush waits for a free slot (back-pressure) but not for the answer.
  const inFlight = new Set<Promise<void>>();
  let emitFailure: unknown;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    // Sorted, so that within a request the first of two identical jobs is always the same one.
    const sending = batch.sort(byPath);
    batch = [];
    await sends.acquire();
    const p: Promise<void> = sendBatch(sending)
      .catch((err) => { emitFailure ??= err; }) // only emit throws here: the report cannot be written
      .finally(() => {
        sends.release();
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  const route = async (read: Read): Promise<void> => {
    if ('report' in read) return o.emit(read.report);
    const { job } = read;
    if (!job.calculation || job.outcome === 'invalid' || job.outcome === 'skipped_running') return o.emit(fromParse(job));
    if (!o.send) return o.emit(fromDryRun(job, o.check?.(job) ?? null));
    // The parse result holds slices of whole file texts (program_call is a piece of xtb.out), which
    // would keep every file of every waiting job alive; a clone holds flat strings only.
    batch.push(structuredClone(job));
    if (batch.length >= o.batchSize) await flush();
  };

  try {
    for await (const event of prefetch(walkJobs(o.root, walk), o.walkAhead ?? 64)) {
      if (fatal !== undefined || emitFailure !== undefined || o.signal?.aborted) {
        stoppedEarly = true;
        break;
      }
      if (event.kind === 'error') {
        o.onWalkError?.(event);
        continue;
      }
      if (event.kind !== 'job') continue;
      jobs++;
      await route(readAndParse(event, o.keepRawOutput ?? false));
      // Parsing is synchronous: let answers, timers and the walk's callbacks in now and then.
      await nextTurn();
      if (o.limit !== undefined && jobs >= o.limit) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    await flush();
    while (inFlight.size > 0) await Promise.all(inFlight);
  }
  if (emitFailure !== undefined) throw emitFailure;
  return { jobs, walk, stoppedEarly, ...(fatal !== undefined ? { fatal } : {}) };
}
