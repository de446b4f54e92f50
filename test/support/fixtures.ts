// The real job sample in test/fixtures/jobs, parsed with the shared parser.
import path from 'node:path';
import { parseJobFiles, readJobFiles, walkJobs, type ParsedJob } from '../../shared/xtb/index.ts';
import { REPO_ROOT } from '../../scripts/stack/paths.ts';

/** The real job sample (xtb 6.5.1 output), kept byte for byte in the repository. */
export const FIXTURE_JOBS = path.join(REPO_ROOT, 'test', 'fixtures', 'jobs');

export async function parsedFixtureJobs(): Promise<ParsedJob[]> {
  const jobs: ParsedJob[] = [];
  for await (const event of walkJobs(FIXTURE_JOBS)) {
    if (event.kind !== 'job') continue;
    jobs.push(parseJobFiles(event.path, readJobFiles(event.dir)));
  }
  return jobs.sort((a, b) => a.path.localeCompare(b.path));
}
