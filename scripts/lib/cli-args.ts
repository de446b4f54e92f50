// The command line of every tool (start, token, upload, runner, the bench scripts): strict
// node:util parseArgs, `--help`/`-h` as a request for the usage (stdout, exit 0), and any other
// mistake as a one-line UsageError that names the flag (stderr with the usage, exit 2). Tools with an
// injected `main(argv, io)` catch HelpRequested and UsageError themselves; top-level scripts call
// `cliArgs`, which exits.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Uuid } from '../../shared/contract/common.ts';
import { UsageError } from './usage-error.ts';

export { UsageError };

/** `--help` or `-h` was given: print the usage and exit 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
  constructor() {
    super('help requested');
  }
}

export const EXIT_USAGE = 2;

type Config = Omit<ParseArgsConfig, 'args' | 'strict'>;
type WithHelp<T extends Config> = T & { args: string[]; strict: true; options: T['options'] & { help: { type: 'boolean'; short: 'h' } } };

/** `--help` or `-h` before a `--` terminator: asked for even when other flags are wrong. */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Parses argv (without node and the script) strictly. Throws HelpRequested for --help/-h, and
 * UsageError with node's first line (`Unknown option '--frobnicate'`) for anything else it refuses.
 */
export function parseCli<const T extends Config>(argv: readonly string[], config: T): ReturnType<typeof parseArgs<WithHelp<T>>> {
  if (asksForHelp(argv)) throw new HelpRequested();
  const full = {
    ...config,
    args: [...argv],
    strict: true,
    options: { ...config.options, help: { type: 'boolean', short: 'h' } },
  } as WithHelp<T>;
  try {
    return parseArgs(full);
  } catch (err) {
    // node's messages can run over several lines ("Did you forget to specify…"): keep the first.
    throw new UsageError((err as Error).message.split('\n')[0].trim());
  }
}

/**
 * For a script's top level: a HelpRequested prints `usage` on stdout and exits 0; a UsageError prints
 * `name: message` and the usage on stderr and exits 2. Anything else is rethrown.
 */
export function exitOnCliError(err: unknown, name: string, usage: string): void {
  if (err instanceof HelpRequested) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (err instanceof UsageError) usageExit(name, usage, err.message);
}

/** `name: message` and the usage on stderr, exit 2. */
export function usageExit(name: string, usage: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n${usage}\n`);
  process.exit(EXIT_USAGE);
}

/** Where a tool with an injected `main(argv, io)` writes. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `fail(code, message, withUsage?)`: `name: message` (and the usage) on the io's stderr; answers `code`. */
export function commandFailure(name: string, usage: string, io: CommandIo) {
  return (code: number, message: string, withUsage = false): number => {
    io.stderr.write(`${name}: ${message}\n${withUsage ? usage + '\n' : ''}`);
    return code;
  };
}

/**
 * The argument step of an injected `main(argv, io)`, the counterpart of exitOnCliError: runs `read`;
 * a HelpRequested prints the usage on stdout and answers `{ exit: 0 }`, a UsageError prints
 * `name: message` and the usage on stderr and answers `{ exit: 2 }`. Anything else is rethrown.
 */
export async function readCommandLine<T>(
  name: string,
  usage: string,
  io: CommandIo,
  read: () => T | Promise<T>,
): Promise<{ args: T; exit?: undefined } | { exit: number }> {
  try {
    return { args: await read() };
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.stdout.write(`${usage}\n`);
      return { exit: 0 };
    }
    if (err instanceof UsageError) return { exit: commandFailure(name, usage, io)(EXIT_USAGE, err.message, true) };
    throw err;
  }
}

/** parseCli for a script's top level: exits on --help (0) and on a usage error (2). */
export function cliArgs<const T extends Config>(name: string, usage: string, argv: readonly string[], config: T): ReturnType<typeof parseArgs<WithHelp<T>>> {
  try {
    return parseCli(argv, config);
  } catch (err) {
    exitOnCliError(err, name, usage);
    throw err;
  }
}

/** A whole number within [min, max] from a flag's text, or a UsageError naming the flag. */
export function wholeNumberArg(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** A flag's UUID, lower-cased, or a UsageError naming the flag and `what` it must be. */
export function uuidArg(flag: string, value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Uuid.safeParse(value).success) throw new UsageError(`${flag} must be ${what}, not ${JSON.stringify(value)}`);
  return value.toLowerCase();
}
