// The uploader's command line: strict parsing (an unknown flag is an error, not a typo to ignore),
// one-line messages, and the usage text. Pure apart from checking that the jobs root is a directory.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/usage-error.ts';

export const USAGE = [
  'usage: npm run upload -- --jobs-root DIR [--user-id UUID] [--dry-run] [--limit N] [--concurrency N] [--report FILE] [--keep-raw-output]',
  '  --jobs-root DIR    the tree of job directories to upload (required)',
  '  --user-id UUID     owner of the rows; required with the service-role key, implied by SUPABASE_ACCESS_TOKEN',
  '  --dry-run          walk, parse and validate only: contact no server, write nothing',
  '  --limit N          stop after N job directories',
  '  --concurrency N    ingest requests in flight at once (default 4)',
  '  --batch-size N     jobs per ingest request (default 200)',
  '  --report FILE      write one JSON line per job: path, job_id, outcome, ids, warnings, error',
  '  --keep-raw-output  store each job\'s xtb.out (gzip) with its result (default: only its SHA-256)',
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

export { UsageError };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** Parses argv (without node and the script). Throws UsageError. */
export function parseUploadArgs(argv: readonly string[]): UploadArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
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
    }));
  } catch (err) {
    // node's messages run over several lines ("To specify a positional argument…"): keep the first.
    throw new UsageError((err as Error).message.split('\n')[0].trim());
  }
  const jobsRoot = values['jobs-root'];
  if (!jobsRoot) throw new UsageError('--jobs-root is required');
  const userId = values['user-id'];
  if (userId !== undefined && !UUID.test(userId)) throw new UsageError(`--user-id must be a UUID, not ${JSON.stringify(userId)}`);
  if (values.report === '') throw new UsageError('--report needs a file name');
  return {
    jobsRoot: path.resolve(jobsRoot),
    ...(userId ? { userId: userId.toLowerCase() } : {}),
    dryRun: values['dry-run'] ?? false,
    ...(values.limit !== undefined ? { limit: positiveInt('--limit', values.limit, Number.MAX_SAFE_INTEGER) } : {}),
    concurrency: positiveInt('--concurrency', values.concurrency, 64) ?? 4,
    batchSize: positiveInt('--batch-size', values['batch-size'], 1000) ?? 200,
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
