// One outcome per job, and the report line that says it: from the parse alone (running, invalid),
// from the server's per-item answer (created, duplicate, failed_calculation, invalid), from a request
// that failed for good (error), or, in a dry run, from the local checks. A job whose xtb run failed
// is `failed_calculation` whether or not it was stored before; `already_stored` says which, so a
// re-run does not count failed jobs as `duplicate`.
import type { IngestItemResult } from '../../shared/contract/ingest.ts';
import type { ParsedJob } from '../../shared/xtb/index.ts';

export const OUTCOMES = ['created', 'duplicate', 'failed_calculation', 'skipped_running', 'invalid', 'error'] as const;
/** A dry run cannot know what is stored already: a sendable job is `completed` (or `failed_calculation`). */
export const DRY_RUN_OUTCOMES = ['completed', 'failed_calculation', 'skipped_running', 'invalid', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number] | 'completed';

/** One line of --report. `error` is the reason for invalid/error/skipped_running, and xtb's message for failed_calculation. */
export interface JobReport {
  path: string;
  job_id: string;
  outcome: Outcome;
  calculation_id: string | null;
  molecule_id: string | null;
  warnings: string[];
  error: string | null;
  /** The server had this calculation already (it answered `duplicate`): nothing was written. */
  already_stored: boolean;
}

const base = (job: Pick<ParsedJob, 'path' | 'job_id' | 'warnings'>) => ({
  path: job.path, job_id: job.job_id, calculation_id: null, molecule_id: null, warnings: job.warnings, already_stored: false,
});

/** A job that is never sent: skipped_running or invalid, as the parser decided. */
export function fromParse(job: ParsedJob): JobReport {
  return { ...base(job), outcome: job.outcome as Outcome, error: job.error ?? null };
}

/** In a dry run, a job the parser would send, after the local molecule checks. */
export function fromDryRun(job: ParsedJob, rejection: string | null): JobReport {
  if (rejection) return { ...base(job), outcome: 'invalid', error: rejection };
  if (job.calculation?.status === 'failed') return { ...base(job), outcome: 'failed_calculation', error: job.calculation.error_message ?? null };
  return { ...base(job), outcome: 'completed', error: null };
}

/** `calculations[12].molecule.smiles` → `molecule.smiles`: the request index means nothing to the user. */
export const issueText = (errors: readonly { path: string; issue: string }[] | undefined): string =>
  (errors ?? []).map((e) => {
    const where = e.path.replace(/^calculations\[\d+\]\.?/, '');
    return where ? `${where}: ${e.issue}` : e.issue;
  }).join('; ') || 'rejected by the server without a reason';

/** The server's answer for a sent job. */
export function fromIngest(job: ParsedJob, result: IngestItemResult): JobReport {
  const ids = { calculation_id: result.calculation_id, molecule_id: result.molecule_id };
  const failed = job.calculation?.status === 'failed';
  switch (result.outcome) {
    case 'rejected':
      return { ...base(job), outcome: 'invalid', error: issueText(result.errors) };
    case 'deferred':
      // The client sends deferred items again until the server identifies them; this is one it gave up on.
      return { ...base(job), outcome: 'error', error: `not stored: ${issueText(result.errors)}` };
    case 'duplicate':
      return failed
        ? { ...base(job), ...ids, outcome: 'failed_calculation', error: job.calculation?.error_message ?? null, already_stored: true }
        : { ...base(job), ...ids, outcome: 'duplicate', error: null, already_stored: true };
    case 'created':
    case 'updated':
      // `updated`: this result completed (or superseded a failed) row of the same identity: it is now stored.
      return failed
        ? { ...base(job), ...ids, outcome: 'failed_calculation', error: job.calculation?.error_message ?? null }
        : { ...base(job), ...ids, outcome: 'created', error: null };
  }
}

/** A job whose request failed after the client's retries, or whose directory could not be read. */
export function fromFailure(job: Pick<ParsedJob, 'path' | 'job_id' | 'warnings'>, message: string): JobReport {
  return { ...base(job), outcome: 'error', error: message };
}

export type OutcomeCounts = Record<Outcome, number>;
export const newCounts = (): OutcomeCounts =>
  ({ created: 0, duplicate: 0, failed_calculation: 0, skipped_running: 0, invalid: 0, error: 0, completed: 0 });
