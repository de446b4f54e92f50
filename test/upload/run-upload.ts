// Runs the uploader as users do: its CLI in a child process, with only the environment the test
// gives it; and reads the report it writes.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { JobReport } from '../../scripts/upload/outcomes.ts';
import { finished, spawnScript } from '../support/child.ts';

export { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

/** The uploader's CLI in a child process, as users start it. */
export const spawnUpload = (args: string[], env: Record<string, string> = {}) => spawnScript('scripts/upload.ts', args, env);

export const runUpload = (args: string[], env: Record<string, string> = {}) => finished(spawnUpload(args, env));

/** A line of the report, as the uploader writes it. */
export type ReportLine = JobReport;

export function readReport(file: string): ReportLine[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

export const byPath = (lines: ReportLine[]) => Object.fromEntries(lines.map((l) => [l.path, l]));

/** Lines written so far to a report that a running upload is appending to (0 before it exists). */
export async function reportedLines(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').length - 1;
  } catch {
    return 0;
  }
}
