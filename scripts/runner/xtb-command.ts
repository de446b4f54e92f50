// A claimed item as an xtb command line, and the RunSpec the shared parser checks the run against.
// `xtb input.xyz --gfn 2 --chrg C --uhf (multiplicity-1) [--alpb SOLVENT] [--opt|--grad] --json [xtb_args]`:
// the solvent comes after the input file, and the batch's whitelisted xtb_args come last.
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import type { Method } from '../../shared/contract/common.ts';
import type { RunSpec } from '../../shared/xtb/index.ts';

export const INPUT_FILE = 'input.xyz';
export const OUTPUT_FILE = 'xtb.out';

const METHOD_FLAGS: Record<Method, string[]> = {
  'GFN2-xTB': ['--gfn', '2'],
  'GFN1-xTB': ['--gfn', '1'],
  'GFN0-xTB': ['--gfn', '0'],
  'GFN-FF': ['--gfnff'],
};

export type XtbItem = Pick<ClaimedItem, 'method' | 'task' | 'charge' | 'multiplicity' | 'solvent' | 'xtb_args'>;

export function xtbArgs(item: XtbItem): string[] {
  return [
    INPUT_FILE,
    ...METHOD_FLAGS[item.method],
    '--chrg', String(item.charge),
    '--uhf', String(item.multiplicity - 1),
    ...(item.solvent ? ['--alpb', item.solvent] : []),
    ...(item.task === 'opt' ? ['--opt'] : item.task === 'grad' ? ['--grad'] : []),
    '--json',
    ...item.xtb_args,
  ];
}

/**
 * One thread per process (the runner runs several), and the parameter directory GFN0 needs on
 * Debian's build. A caller's own XTBPATH is kept.
 */
export function xtbEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    XTBPATH: base.XTBPATH || '/usr/share/xtb',
  };
}

/** A word as a POSIX shell reads it back: bare when it is safe, single-quoted otherwise. */
const shellWord = (w: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The exact command line of a run, as a shell would take it (the program as the runner was told to call it). */
export const commandLine = (xtb: string, args: readonly string[]): string => [xtb, ...args].map(shellWord).join(' ');

export function runSpec(item: ClaimedItem, ctx: { runnerId: string; startedAt: string; completedAt: string; xtb?: string }): RunSpec {
  const args = xtbArgs(item);
  return {
    xtb_args: args,
    command: commandLine(ctx.xtb ?? 'xtb', args),
    molecule: { smiles: item.smiles, name: item.name },
    method: item.method,
    task: item.task,
    charge: item.charge,
    multiplicity: item.multiplicity,
    solvent: item.solvent,
    source: `runner:${ctx.runnerId}`,
    metadata: { runner_id: ctx.runnerId, attempt: item.attempt, ...(item.xtb_args.length ? { xtb_args: item.xtb_args } : {}) },
    batch_item_id: item.item_id,
    started_at: ctx.startedAt,
    completed_at: ctx.completedAt,
  };
}
