// One claimed item on this machine, no network: a fresh temporary directory (a leftover xtbrestart
// or charges file would poison the run), the geometry, xtb, the shared parser, the failure class.
// The directory is removed whatever happens.
// `stageItem` does the cheap part ahead (directory, and the input file when the item carries its
// geometry) while another item's xtb runs, so a free slot goes straight to starting xtb; Open Babel
// stays inside the slot, as it needs the CPU.
// Parsing is synchronous (tens of ms for a drug-sized run on a busy machine): it waits one turn
// of the event loop after xtb exits, so the next item's xtb, whose start is already queued as a
// microtask, is spawned first instead of waiting for it. bench:runner measured that wait as the
// largest part of a slot's idle time.
// The run directories go to tmpfs (/dev/shm) when there is one and TMPDIR does not say otherwise:
// xtb's files never touch a disk, and removing a directory there is about 0.4 ms instead of ~10 ms
// on a busy /tmp.
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClaimedItem, ErrorClass } from '../../shared/contract/batches.ts';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { classifyXtbFailure } from '../../shared/xtb/classify-failure.ts';
import { digestRunDirectory, parseXtbOut, parseXtbRun, readJobFiles, withFiles } from '../../shared/xtb/index.ts';
import { geometryFor, toXyz } from './geometry.ts';
import { runProcess } from './process.ts';
import { INPUT_FILE, OUTPUT_FILE, runSpec, xtbArgs, xtbEnv } from './xtb-command.ts';

export interface RunItemOptions {
  xtb: string;
  obabel: string;
  timeoutS: number;
  runnerId: string;
  /** Aborted when the lease is lost or on a hard stop: xtb is killed and nothing is reported. */
  signal?: AbortSignal;
  /**
   * Called once, as soon as xtb has exited (or the item failed before starting it): the CPU is
   * free for the next item while this one is parsed, reported and cleaned up.
   */
  onProcessDone?: () => void;
  /** Made by stageItem beforehand; without it the directory is made here. */
  staged?: Promise<StagedItem>;
  /** Parent of the per-run directories (default: defaultRunRoot()). */
  tmpRoot?: string;
  env?: NodeJS.ProcessEnv;
  /** Store xtb.out (gzip) with the result; its SHA-256 is stored either way. */
  keepRawOutput?: boolean;
}

/** Seconds spent in each part, for the log line and the overhead figures. */
export interface ItemTimes {
  geometryS: number;
  /** From spawning xtb to its exit (process start included). */
  xtbS: number;
  /** Of xtbS: from the spawn call to the process running. */
  spawnS: number;
  /** Temp dir, files, parse, classification: the runner's own time on this machine (filesS + parseS + the rest). */
  localS: number;
  /** Making the directory and writing the input, reading the outputs, removing the directory. */
  filesS: number;
  /** Parsing the outputs, classifying a failure, hashing the files for provenance. */
  parseS: number;
  totalS: number;
}

export const NO_TIMES: ItemTimes = { geometryS: 0, xtbS: 0, spawnS: 0, localS: 0, filesS: 0, parseS: 0, totalS: 0 };

let runRoot: string | undefined;

/** /dev/shm when it is a writable directory and TMPDIR is not set; the OS temp dir otherwise. */
export function defaultRunRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TMPDIR) return os.tmpdir();
  if (runRoot === undefined) {
    try {
      if (!statSync('/dev/shm').isDirectory()) throw new Error('not a directory');
      accessSync('/dev/shm', constants.W_OK | constants.X_OK);
      runRoot = '/dev/shm';
    } catch {
      runRoot = os.tmpdir();
    }
  }
  return runRoot;
}

export type ItemRun =
  | { kind: 'completed'; calculation: IngestCalculationInput; warnings: string[]; times: ItemTimes }
  | { kind: 'failed'; error_class: ErrorClass; message: string; times: ItemTimes }
  /** Stopped from outside (lease lost, hard stop): report nothing, the lease decides. */
  | { kind: 'abandoned'; times: ItemTimes };

type WithoutTimes<T> = T extends unknown ? Omit<T, 'times'> : never;

/** Time limit for Open Babel, separate from xtb's: a slow --gen3d is not the calculation timing out. */
const OBABEL_TIMEOUT_MS = 120_000;

export interface StagedItem {
  dir: string;
  /** input.xyz is written (the item carried its geometry). */
  inputWritten: boolean;
  seconds: number;
}

export async function stageItem(item: ClaimedItem, opts: Pick<RunItemOptions, 'tmpRoot'>): Promise<StagedItem> {
  const t = performance.now();
  const dir = await mkdtemp(path.join(opts.tmpRoot ?? defaultRunRoot(), 'qf-runner-'));
  try {
    if (item.geometry) await writeFile(path.join(dir, INPUT_FILE), toXyz(item.geometry, item.smiles));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, inputWritten: item.geometry !== null, seconds: (performance.now() - t) / 1000 };
}

/** Removes a staged directory whose item will not run (lost before it started, or a hard stop). */
export async function discardStaged(staged: Promise<StagedItem>): Promise<void> {
  const s = await staged.catch(() => null);
  if (s) await rm(s.dir, { recursive: true, force: true });
}

export async function runItem(item: ClaimedItem, opts: RunItemOptions): Promise<ItemRun> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const times: ItemTimes = { ...NO_TIMES };
  const lap = (from: number) => (performance.now() - from) / 1000;
  // `times` is filled in once the directory is gone, so removing it counts too.
  const done = (r: WithoutTimes<ItemRun>): ItemRun => ({ ...r, times }) as ItemRun;
  let released = false;
  const release = () => {
    if (!released) opts.onProcessDone?.();
    released = true;
  };
  let staged: StagedItem;
  try {
    staged = await (opts.staged ?? stageItem(item, opts));
  } catch (err) {
    release();
    throw err;
  }
  const { dir } = staged;
  try {
    const env = opts.env ?? process.env;
    if (!staged.inputWritten) {
      const geo = await geometryFor(item, { obabel: opts.obabel, cwd: dir, timeoutMs: OBABEL_TIMEOUT_MS, signal: opts.signal, env });
      times.geometryS = geo.seconds;
      if (opts.signal?.aborted) return done({ kind: 'abandoned' });
      if (!geo.ok) return done({ kind: 'failed', error_class: geo.error_class, message: geo.message });
      await writeFile(path.join(dir, INPUT_FILE), toXyz(geo.atoms, item.smiles));
    }

    const run = await runProcess(opts.xtb, xtbArgs(item), {
      cwd: dir, env: xtbEnv(env), timeoutMs: opts.timeoutS * 1000, signal: opts.signal, outputFile: path.join(dir, OUTPUT_FILE),
    });
    times.xtbS = run.seconds;
    times.spawnS = run.startS;
    release();
    if (run.aborted) return done({ kind: 'abandoned' });
    if (run.spawnError) return done({ kind: 'failed', error_class: 'crash', message: `cannot run ${opts.xtb}: ${run.spawnError}` });
    // Let the next item's xtb start before this synchronous work (see the header).
    await new Promise<void>((resolve) => setImmediate(resolve));

    let t = performance.now();
    const files = readJobFiles(dir);
    times.filesS += lap(t);
    t = performance.now();
    const spec = runSpec(item, { runnerId: opts.runnerId, startedAt, completedAt: new Date().toISOString(), xtb: opts.xtb });
    const log = files['xtb.out'] !== undefined ? parseXtbOut(files['xtb.out']) : null;
    const parse = run.timedOut ? null : parseXtbRun(files, spec);
    const failure = classifyXtbFailure(
      { task: item.task, exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, timeoutS: opts.timeoutS },
      log, parse,
    );
    if (failure) {
      times.parseS += lap(t);
      return done({ kind: 'failed', ...failure });
    }
    // Provenance: every file of the run directory by its hash, and xtb.out itself when asked.
    const calculation = withFiles(parse!.calculation!, digestRunDirectory(dir, opts.keepRawOutput ?? false));
    times.parseS += lap(t);
    return done({ kind: 'completed', calculation, warnings: parse!.warnings });
  } finally {
    release();
    const t = performance.now();
    await rm(dir, { recursive: true, force: true });
    times.filesS += lap(t) + staged.seconds;
    times.totalS = (performance.now() - t0) / 1000 + (opts.staged ? staged.seconds : 0);
    times.localS = Math.max(0, times.totalS - times.geometryS - times.xtbS);
  }
}
