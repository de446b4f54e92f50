// The words of an xtb command line that a calculation carries as `xtb_args`: its settings, from
// which the database derives the specification (public.xtb_specification, the one rule; see
// docs/specifications.md). Here only what the API checks before storing: that the words do not
// contradict the calculation's own method, task, charge, multiplicity and solvent, which the
// specification takes from those columns.
import type { Method, Task } from '../contract/common.ts';

export interface XtbArgsSubject {
  method: Method;
  task: Task;
  charge: number;
  multiplicity: number;
  solvent: string | null;
}

export interface XtbArgsConflict {
  /** Index of the offending word in the array. */
  index: number;
  issue: string;
}

const GFN: Record<string, Method> = { '0': 'GFN0-xTB', '1': 'GFN1-xTB', '2': 'GFN2-xTB' };
const SOLVATION_FLAGS = new Set(['--alpb', '-g', '--gbsa', '--cosmo', '--cpcmx']);

/** Words that say something else than the calculation's columns, each with why. */
export function xtbArgsConflicts(words: readonly string[], c: XtbArgsSubject): XtbArgsConflict[] {
  const out: XtbArgsConflict[] = [];
  const differs = (index: number, what: string, got: string, expected: string) =>
    out.push({ index, issue: `says ${what} ${got}, but the calculation's is ${expected}` });
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = words[i + 1];
    if (w === '--gfn') {
      const method = next === undefined ? undefined : GFN[next];
      if (method !== c.method) differs(i, 'method', method ?? `--gfn ${next ?? ''}`.trim(), c.method);
      i++;
    } else if (w === '--gfnff' || w === '--gff') {
      if (c.method !== 'GFN-FF') differs(i, 'method', 'GFN-FF', c.method);
    } else if (w === '-c' || w === '--chrg') {
      if (Number(next) !== c.charge) differs(i, 'charge', String(next), String(c.charge));
      i++;
    } else if (w === '-u' || w === '--uhf') {
      if (Number(next) !== c.multiplicity - 1) differs(i, 'multiplicity', `${Number(next) + 1} (--uhf ${next})`, String(c.multiplicity));
      i++;
    } else if (w === '-o' || w === '--opt') {
      if (c.task !== 'opt') differs(i, 'task', 'opt', c.task);
    } else if (w === '--grad') {
      if (c.task === 'sp') differs(i, 'task', 'grad', c.task);
    } else if (w === '--sp' || w === '--scc') {
      if (c.task !== 'sp') differs(i, 'task', 'sp', c.task);
    } else if (SOLVATION_FLAGS.has(w)) {
      const solvent = next?.toLowerCase();
      if (solvent !== (c.solvent?.toLowerCase() ?? undefined)) differs(i, 'solvent', solvent ?? '(none)', c.solvent ?? 'gas phase (null)');
      i++;
    }
  }
  return out;
}

/** The words of a command line as xtb prints it (`program call : xtb input.xyz --gfn 2 …`). */
export const commandWords = (command: string): string[] => command.trim().split(/\s+/).filter(Boolean);
