// Command-line parsing shared by the uploader and the runner: strict (an unknown flag is an error,
// not a typo to ignore), no positionals, and one-line UsageError messages.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags' values. Throws UsageError. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    // node's messages run over several lines ("To specify a positional argument…"): keep the first.
    throw new UsageError((err as Error).message.split('\n')[0].trim());
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A flag's UUID, lower-cased; undefined when the flag is absent. Throws UsageError naming `what`. */
export function uuidFlag(flag: string, value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!UUID.test(value)) throw new UsageError(`${flag} must be ${what}, not ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** A whole number from `min` to `max`; undefined when the flag is absent. Throws UsageError. */
export function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}
