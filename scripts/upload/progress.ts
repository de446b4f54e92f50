// Progress while the upload runs, on stderr. On a terminal: a cli-progress bar with jobs per second,
// ETA and counts per outcome; its total comes from a second, count-only walk on a worker thread
// (count-jobs-worker.ts: it holds no paths and takes nothing from the upload's own thread), shown
// with a `+` until it ends. Without a terminal: one line every few seconds.
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import type { OutcomeCounts } from './outcomes.ts';

export interface ProgressSource {
  /** Jobs that have an outcome so far. */
  done(): number;
  counts(): OutcomeCounts;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  tty: boolean;
  dryRun: boolean;
  /** Between lines without a terminal. */
  intervalMs: number;
  root: string;
  limit?: number;
}

export interface Progress {
  stop(): void;
}

const short = (c: OutcomeCounts, dryRun: boolean): string => (dryRun
  ? `completed ${c.completed}  failed ${c.failed_calculation}  running ${c.skipped_running}  invalid ${c.invalid}  error ${c.error}`
  : `created ${c.created}  duplicate ${c.duplicate}  failed ${c.failed_calculation}  running ${c.skipped_running}  invalid ${c.invalid}  error ${c.error}`);

/**
 * Starts the counting worker. Workers do not inherit tsx's loader, so the worker registers it first
 * (this file runs under tsx, so tsx is there to resolve).
 */
function countJobs(root: string, limit: number | undefined, onCount: (n: number, final: boolean) => void): Worker {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./count-jobs-worker.ts', import.meta.url).href)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { root, limit }, stdout: true, stderr: true });
  worker.on('message', (m: { n: number; final: boolean }) => onCount(m.n, m.final));
  worker.on('error', () => onCount(-1, true)); // no total then: the bar keeps its `+`
  worker.unref();
  return worker;
}

/** Jobs per second over about the last ten seconds (the start, RDKit loading, ages out). */
function recentRate(done: () => number): () => number {
  const samples: { t: number; n: number }[] = [{ t: performance.now(), n: 0 }];
  return () => {
    const now = { t: performance.now(), n: done() };
    samples.push(now);
    while (samples.length > 2 && now.t - samples[1].t >= 10_000) samples.shift();
    const first = samples[0];
    return (now.n - first.n) / Math.max(1e-3, (now.t - first.t) / 1000);
  };
}

export function startProgress(source: ProgressSource, o: ProgressOptions): Progress {
  const started = performance.now();
  const rate = recentRate(() => source.done());

  if (!o.tty) {
    const timer = setInterval(() => {
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      o.stream.write(`upload: ${source.done()} jobs in ${secs} s (${rate().toFixed(0)} jobs/s)  ${short(source.counts(), o.dryRun)}\n`);
    }, o.intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  const bar = new cliProgress.SingleBar({
    stream: o.stream,
    format: '{bar} {percentage}% | {value}/{total}{more} jobs | {rate} jobs/s | ETA {eta_formatted} | {counts}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  let total = o.limit ?? 0;
  let counted = false;
  bar.start(Math.max(total, 1), 0, { more: '+', rate: '0', counts: short(source.counts(), o.dryRun) });
  const counter = countJobs(o.root, o.limit, (n, final) => {
    if (n >= 0) total = o.limit !== undefined ? Math.min(o.limit, Math.max(n, final ? 0 : o.limit)) : n;
    if (final) counted = n >= 0;
  });
  const tick = () => {
    const done = source.done();
    bar.setTotal(Math.max(total, done, 1));
    bar.update(done, { more: counted ? '' : '+', rate: rate().toFixed(0), counts: short(source.counts(), o.dryRun) });
  };
  const timer = setInterval(tick, 250);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      void counter.terminate();
      counted = true;
      tick();
      bar.stop();
    },
  };
}
