// Why an xtb run failed, in the batches API's error classes. Pure: it reads how the process ended
// and what the parser saw, and never looks at files itself. Checked in this order:
//   timeout → crash by signal → invalid_input (xtb rejected the input) → scf_not_converged →
//   opt_not_converged (xtb exits 0 and prints FAILED TO CONVERGE) → crash (non-zero exit, missing outputs).
import type { ErrorClass } from '../contract/batches.ts';
import type { Task } from '../contract/common.ts';
import type { RunParse } from './job.ts';
import { xtbErrorMessage, type XtbLog } from './xtb-out.ts';

export interface XtbProcessEnd {
  task: Task;
  /** null when the process was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** The runner killed it for running past its time limit. */
  timedOut: boolean;
  /** The time limit, for the message. */
  timeoutS?: number;
}

export interface XtbFailure {
  error_class: ErrorClass;
  message: string;
}

/**
 * xtb's own words for an input it will not run: a geometry it cannot read, atoms on top of each
 * other, a solvent it has no parameters for.
 */
const INPUT_REJECTED = [
  /reading geometry input .* failed/i,
  /Cannot map symbol to atomic number/i,
  /Impossible number of atoms/i,
  /REFUSES TO CONTINUE/,
  /very\*? short distance/i,
  /is not parametrized/i,
  /Unknown solvent/i,
];

const SCF_FAILED = /Self consistent charge iterator did not converge|convergence criteria cannot be satisfied/i;

function errorLines(log: XtbLog): string[] {
  return log.messages.filter((m) => m.level === 'error').map((m) => m.text);
}

/** Null when the run succeeded (xtb ended normally and the parser built a converged calculation). */
export function classifyXtbFailure(end: XtbProcessEnd, log: XtbLog | null, parse: RunParse | null): XtbFailure | null {
  const own = log ? xtbErrorMessage(log) : null;
  if (end.timedOut) {
    const limit = end.timeoutS !== undefined ? ` of ${end.timeoutS} s` : '';
    return { error_class: 'timeout', message: `xtb ran past the time limit${limit} and was killed` };
  }
  if (end.signal) return { error_class: 'crash', message: `xtb was ended by ${end.signal}${own ? ` (${own})` : ''}` };

  const errors = log ? errorLines(log) : [];
  const rejected = errors.find((e) => INPUT_REJECTED.some((re) => re.test(e)));
  if (rejected) return { error_class: 'invalid_input', message: `xtb rejected the input: ${own ?? rejected}` };

  const calc = parse?.outcome === 'completed' ? parse.calculation : undefined;
  const scfFailed = log?.scfConverged === false || errors.some((e) => SCF_FAILED.test(e)) ||
    (calc?.results?.converged === false && log?.optConverged !== false);
  if (scfFailed) return { error_class: 'scf_not_converged', message: own ?? 'scf: Self consistent charge iterator did not converge' };

  if (end.task === 'opt' && log?.optConverged === false) {
    return { error_class: 'opt_not_converged', message: 'FAILED TO CONVERGE GEOMETRY OPTIMIZATION: the optimisation hit its cycle limit' };
  }

  if (end.exitCode !== 0) {
    const why = own ?? log?.runtimeError ?? (log?.abnormalTermination ? 'abnormal termination of xtb' : null);
    return { error_class: 'crash', message: `xtb exited with code ${end.exitCode}${why ? `: ${why}` : ' and no message'}` };
  }
  if (!parse || parse.outcome !== 'completed') {
    const why = parse?.error ?? (log ? 'xtb.out has no termination line' : 'xtb wrote no output');
    return { error_class: 'crash', message: `xtb exited 0 but its outputs are unusable: ${why}` };
  }
  return null;
}
