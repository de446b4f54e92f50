// The runner's command line: strict parsing (an unknown flag is an error), one-line messages, the
// usage text. Pure: defaults that depend on the machine (cores) are passed in.
import { BATCH_LIMITS } from '../../shared/contract/batches.ts';
import { HelpRequested, parseCli, UsageError, uuidArg, wholeNumberArg } from '../lib/cli-args.ts';

export { HelpRequested, UsageError };

export const USAGE = [
  'usage: npm run runner -- [--batch ID] [--concurrency N] [--runner-id NAME] [--lease 300] [--timeout 600] [--once] [--xtb PATH] [--keep-raw-output]',
  '  --batch ID         claim only this batch\'s items (default: any claimable item)',
  '  --concurrency N    xtb processes at once (default: the number of cores)',
  '  --runner-id NAME   how this runner is named in leases and attempt history (default: host-pid)',
  `  --lease S          lease length in seconds, ${BATCH_LIMITS.leaseSeconds.min}-${BATCH_LIMITS.leaseSeconds.max} (default 300); heartbeats renew it`,
  '  --timeout S        seconds one xtb run may take before it is killed (default 600; fractions allowed)',
  '  --once             drain what is claimable now, then exit (default: keep polling)',
  '  --xtb PATH         the xtb program (default: xtb on PATH)',
  '  --obabel PATH      the Open Babel program, for items without a geometry (default: obabel on PATH)',
  '  --keep-raw-output  store each run\'s xtb.out (gzip) with its result (default: only its SHA-256)',
  '  -h, --help         print this help',
  'Auth: SUPABASE_ACCESS_TOKEN (a user\'s token: that user\'s items) or SUPABASE_SERVICE_ROLE_KEY (every user\'s items),',
  'with SUPABASE_URL, from the environment or .local/stack.env.',
].join('\n');

export interface RunnerArgs {
  batchId?: string;
  concurrency: number;
  runnerId: string;
  leaseSeconds: number;
  timeoutS: number;
  once: boolean;
  xtb: string;
  obabel: string;
  keepRawOutput: boolean;
}

const RUNNER_ID = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value.trim()) || !(n > 0) || n > 7 * 86400) {
    throw new UsageError(`${flag} must be a number of seconds above 0, not ${JSON.stringify(value)}`);
  }
  return n;
}

export interface ArgDefaults {
  cores: number;
  runnerId: string;
}

/** Parses argv (without node and the script). Throws HelpRequested or UsageError. */
export function parseRunnerArgs(argv: readonly string[], defaults: ArgDefaults): RunnerArgs {
  const { values } = parseCli(argv, {
    allowPositionals: false,
    options: {
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      'runner-id': { type: 'string' },
      lease: { type: 'string' },
      timeout: { type: 'string' },
      once: { type: 'boolean', default: false },
      xtb: { type: 'string' },
      obabel: { type: 'string' },
      'keep-raw-output': { type: 'boolean', default: false },
    },
  });
  const batchId = uuidArg('--batch', values.batch, 'a batch id (a UUID)');
  const runnerId = values['runner-id'] ?? defaults.runnerId;
  if (!RUNNER_ID.test(runnerId)) throw new UsageError(`--runner-id must be 1 to 200 printable ASCII characters, not ${JSON.stringify(runnerId)}`);
  if (values.xtb === '') throw new UsageError('--xtb needs a path');
  if (values.obabel === '') throw new UsageError('--obabel needs a path');
  const { min, max } = BATCH_LIMITS.leaseSeconds;
  return {
    ...(batchId ? { batchId } : {}),
    concurrency: wholeNumberArg('--concurrency', values.concurrency, 1, BATCH_LIMITS.claimLimit.max) ?? Math.max(1, defaults.cores),
    runnerId,
    leaseSeconds: wholeNumberArg('--lease', values.lease, min, max) ?? BATCH_LIMITS.leaseSeconds.default,
    timeoutS: seconds('--timeout', values.timeout) ?? 600,
    once: values.once ?? false,
    xtb: values.xtb ?? 'xtb',
    obabel: values.obabel ?? 'obabel',
    keepRawOutput: values['keep-raw-output'] ?? false,
  };
}
