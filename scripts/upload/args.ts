// The uploader's command line: strict parsing (an unknown flag is an error, not a typo to ignore),
// one-line messages, and the usage text. Pure apart from checking that the jobs root is a directory.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { HelpRequested, parseCli, UsageError, uuidArg, wholeNumberArg } from '../lib/cli-args.ts';

export const USAGE = [
  'usage: npm run upload -- --jobs-root DIR [--user-id UUID] [--dry-run] [--limit N] [--concurrency N] [--report FILE] [--keep-raw-output]',
  '  --jobs-root DIR    the tree of job directories to upload (required)',
  '  --user-id UUID     owner of the rows; required with the service-role key, implied by SUPABASE_ACCESS_TOKEN',
  '  --dry-run          walk, parse and validate only: contact no server, write nothing',
  '  --limit N          stop after N job directories',
  '  --concurrency N    ingest requests in flight at once (default 4)',
  '  --batch-size N     jobs per ingest request (default 200)',
  '  --report FILE      write one JSON line per job: path, job_id, outcome, ids, warnings, error, already_stored',
  '  --keep-raw-output  store each job\'s xtb.out (gzip) with its result (default: only its SHA-256)',
  '  -h, --help         print this help',
  'Auth: SUPABASE_ACCESS_TOKEN (a user\'s token: that user\'s rows) or SUPABASE_SERVICE_ROLE_KEY with --user-id,',
  'with SUPABASE_URL, from the environment or .local/stack.env (written by `npm start`).',
].join('\n');

export interface UploadArgs {
  jobsRoot: string;
  userId?: string;
  dryRun: boolean;
  limit?: number;
  concurrency: number;
  batchSize: number;
  report?: string;
  keepRawOutput: boolean;
}

export { HelpRequested, UsageError };

/** Parses argv (without node and the script). Throws HelpRequested or UsageError. */
export function parseUploadArgs(argv: readonly string[]): UploadArgs {
  const { values } = parseCli(argv, {
    allowPositionals: false,
    options: {
      'jobs-root': { type: 'string' },
      'user-id': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      limit: { type: 'string' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      report: { type: 'string' },
      'keep-raw-output': { type: 'boolean', default: false },
    },
  });
  const jobsRoot = values['jobs-root'];
  if (!jobsRoot) throw new UsageError('--jobs-root is required');
  const userId = uuidArg('--user-id', values['user-id'], 'a UUID');
  if (values.report === '') throw new UsageError('--report needs a file name');
  return {
    jobsRoot: path.resolve(jobsRoot),
    ...(userId ? { userId } : {}),
    dryRun: values['dry-run'] ?? false,
    ...(values.limit !== undefined ? { limit: wholeNumberArg('--limit', values.limit, 1, Number.MAX_SAFE_INTEGER) } : {}),
    concurrency: wholeNumberArg('--concurrency', values.concurrency, 1, 64) ?? 4,
    batchSize: wholeNumberArg('--batch-size', values['batch-size'], 1, 1000) ?? 200,
    ...(values.report !== undefined ? { report: path.resolve(values.report) } : {}),
    keepRawOutput: values['keep-raw-output'] ?? false,
  };
}

/** The jobs root must be a directory that exists. Throws UsageError. */
export async function checkJobsRoot(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new UsageError(`--jobs-root ${dir}: no such directory`);
  }
  if (!info.isDirectory()) throw new UsageError(`--jobs-root ${dir}: not a directory`);
}
