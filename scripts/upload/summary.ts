// The final summary: a table of outcomes, what the walk skipped, the first few jobs that could not be
// stored (with their reasons), the rate and the peak memory. Kept as a tally fed one report at a time.
import type { WalkCounts } from '../../shared/xtb/index.ts';
import { DRY_RUN_OUTCOMES, newCounts, OUTCOMES, type JobReport, type OutcomeCounts } from './outcomes.ts';

const SHOWN_PROBLEMS = 10;

export class Tally {
  readonly counts: OutcomeCounts = newCounts();
  done = 0;
  withWarnings = 0;
  /** failed_calculation jobs the server had stored before this run. */
  failedAlreadyStored = 0;
  /** The first few invalid/error jobs, for the summary. */
  readonly problems: JobReport[] = [];

  add(r: JobReport): void {
    this.done++;
    this.counts[r.outcome]++;
    if (r.warnings.length) this.withWarnings++;
    if (r.outcome === 'failed_calculation' && r.already_stored) this.failedAlreadyStored++;
    if ((r.outcome === 'invalid' || r.outcome === 'error') && this.problems.length < SHOWN_PROBLEMS) this.problems.push(r);
  }
}

export interface SummaryInput {
  tally: Tally;
  walk: WalkCounts;
  seconds: number;
  dryRun: boolean;
  peakRssBytes: number;
  /** Why the run ended before the end of the tree, if it did. */
  stopped?: string;
  reportFile?: string;
}

/** `a, b, c` or `a, b, c and 12 more`: the first few names, sorted, then how many are not shown. */
function named(examples: readonly string[], count: number): string {
  const shown = [...examples].sort().join(', ');
  return count > examples.length ? `${shown} and ${count - examples.length} more` : shown;
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));
const lpad = (s: string, n: number) => ' '.repeat(Math.max(0, n - s.length)) + s;

export function formatSummary(s: SummaryInput): string {
  const { tally } = s;
  const names = s.dryRun ? DRY_RUN_OUTCOMES : OUTCOMES;
  const width = Math.max(8, String(tally.done).length);
  const lines = [s.dryRun ? 'dry run (nothing was sent): what the upload would do' : 'upload summary', ''];
  lines.push(`${pad('outcome', 20)}${lpad('jobs', width)}`);
  for (const name of names) {
    const note = name === 'failed_calculation' && tally.failedAlreadyStored ? `  (${tally.failedAlreadyStored} already stored)` : '';
    lines.push(`${pad(name, 20)}${lpad(String(tally.counts[name]), width)}${note}`);
  }
  lines.push(`${pad('total', 20)}${lpad(String(tally.done), width)}`, '');
  if (s.dryRun) {
    lines.push(`would send ${tally.counts.completed + tally.counts.failed_calculation} calculations (${tally.counts.completed} completed, ${tally.counts.failed_calculation} failed)`);
  }
  const { walk } = s;
  if (walk.containerDirs) lines.push(`folders searched for job directories: ${walk.containerDirs} (${named(walk.containerExamples, walk.containerDirs)})`);
  const empty = walk.skippedDirs - walk.containerDirs;
  if (empty) lines.push(`directories without metadata.json and without jobs below (skipped): ${empty} (${named(walk.emptyExamples, empty)})`);
  lines.push(`symlinks not followed: ${walk.symlinksIgnored}; unreadable directories: ${walk.errors}`);
  if (tally.withWarnings) lines.push(`${tally.withWarnings} jobs have warnings${s.reportFile ? ` (see ${s.reportFile})` : ' (use --report FILE to see them)'}`);
  if (tally.problems.length) {
    const more = tally.counts.invalid + tally.counts.error - tally.problems.length;
    lines.push('not stored:');
    for (const p of tally.problems) lines.push(`  ${p.outcome} ${p.path}: ${p.error}`);
    if (more > 0) lines.push(`  … and ${more} more${s.reportFile ? ` in ${s.reportFile}` : ''}`);
  }
  if (s.stopped) lines.push(s.stopped);
  const rate = tally.done / Math.max(s.seconds, 1e-3);
  lines.push(`${tally.done} jobs in ${s.seconds.toFixed(1)} s (${rate.toFixed(0)} jobs/s), peak RSS ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MB`);
  return lines.join('\n') + '\n';
}
