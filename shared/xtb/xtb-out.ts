// xtb's captured stdout+stderr (`xtb.out`): results, termination, xtb's own error stack and the program call.
// stderr is unbuffered, so termination lines can land mid-output: nothing here relies on line order across streams.
import type { Method, Task, Vec3 } from '../contract/common.ts';
import { parseReal, textLines } from './text.ts';

export interface XtbDipole {
  /** e·Bohr, as printed. */
  au: Vec3;
  debye: number;
  /** Decimals xtb printed the components with: how far a more precise source may differ. */
  decimals: number;
}

export interface XtbMessage {
  level: 'error' | 'warning';
  /** xtb's stack depth, `-1-` being where the problem arose. */
  depth: number;
  text: string;
}

export interface XtbCall {
  raw: string;
  method: Method;
  task: Task;
  charge: number;
  uhf: number;
  solvent: string | null;
}

export interface XtbLog {
  xtbVersion: string | null;
  /** The whole version line, e.g. `xtb version 6.5.1 (unknown) compiled by 'builduser@buildhost' on 2022-12-09`. */
  xtbVersionLine: string | null;
  programCall: XtbCall | null;
  /** Method named by the banner of the Hamiltonian block. */
  bannerMethod: Method | null;
  normalTermination: boolean;
  abnormalTermination: boolean;
  /** The Fortran runtime stopped the program (gfortran `Error termination`, `ERROR STOP`, a signal). */
  crashed: boolean;
  /** The runtime's own explanation of a crash, when it printed one. */
  runtimeError: string | null;
  messages: XtbMessage[];
  totalEnergyEh: number | null;
  gradientNormEhBohr: number | null;
  homoLumoGapEv: number | null;
  dipole: XtbDipole | null;
  /** false once any SCF gave up, true if SCFs converged, null if none ran (GFN-FF). */
  scfConverged: boolean | null;
  /** Only for optimisations. */
  optConverged: boolean | null;
  wallTimeS: number | null;
}

const BANNER: Record<string, Method> = {
  'GFN2-xTB': 'GFN2-xTB', 'GFN1-xTB': 'GFN1-xTB', 'GFN0-xTB': 'GFN0-xTB', 'GFN-FF': 'GFN-FF',
};

/** Reads the flags xtb was started with; unknown flags are ignored, they do not change identity. */
export function parseProgramCall(raw: string): XtbCall {
  const t = raw.trim().split(/\s+/);
  const call: XtbCall = { raw: raw.trim(), method: 'GFN2-xTB', task: 'sp', charge: 0, uhf: 0, solvent: null };
  for (let i = 0; i < t.length; i++) {
    const a = t[i];
    const next = t[i + 1];
    if (a === '--gfn' && next) call.method = ({ '0': 'GFN0-xTB', '1': 'GFN1-xTB', '2': 'GFN2-xTB' } as const)[next] ?? call.method;
    else if (a === '--gfnff') call.method = 'GFN-FF';
    else if (a === '--opt' || a === '-o') call.task = 'opt';
    else if ((a === '--grad') && call.task !== 'opt') call.task = 'grad';
    else if ((a === '--chrg' || a === '-c') && next) call.charge = Number(next);
    else if ((a === '--uhf' || a === '-u') && next) call.uhf = Number(next);
    else if ((a === '--alpb' || a === '--gbsa' || a === '-g' || a === '--cosmo') && next) call.solvent = next.toLowerCase();
  }
  return call;
}

const numbers = (s: string): number[] => s.trim().split(/\s+/).map(parseReal).filter((v): v is number => v !== null);
const decimalsOf = (token: string): number => (token.split('.')[1] ?? '').length;

function lastMatch(lines: string[], re: RegExp): number | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = re.exec(lines[i]);
    if (m) return parseReal(m[1]);
  }
  return null;
}

/** `molecular dipole:` block (GFN2): the `full:` row has x y z in e·Bohr and the total in Debye. */
function moleculeDipole(lines: string[]): XtbDipole | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const t = lines[i].trim();
    if (t === 'molecular dipole:') {
      const row = lines.slice(i + 1, i + 5).find((l) => l.trim().startsWith('full:'));
      if (!row) return null;
      const tokens = row.trim().split(/\s+/).slice(1);
      const v = numbers(tokens.join(' '));
      return v.length === 4 ? { au: [v[0], v[1], v[2]], debye: v[3], decimals: decimalsOf(tokens[0]) } : null;
    }
    if (t.startsWith('dipole moment from electron density')) {
      // GFN1/GFN0: header, `X Y Z` line, then `x y z  total (Debye):  d`.
      const row = lines.slice(i + 1, i + 4).find((l) => l.includes('total (Debye):'));
      if (!row) return null;
      const [vecPart, totPart] = row.split('total (Debye):');
      const tokens = vecPart.trim().split(/\s+/);
      const v = numbers(vecPart);
      const tot = parseReal(totPart);
      return v.length === 3 && tot !== null ? { au: [v[0], v[1], v[2]], debye: tot, decimals: decimalsOf(tokens[0]) } : null;
    }
  }
  return null;
}

function wallTime(lines: string[]): number | null {
  const total = lines.findIndex((l) => l.trim() === 'total:');
  if (total < 0) return null;
  const row = lines.slice(total + 1, total + 3).find((l) => l.includes('wall-time:'));
  const m = row && /(\d+)\s*d,\s*(\d+)\s*h,\s*(\d+)\s*min,\s*([\d.]+)\s*sec/.exec(row);
  return m ? Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]) : null;
}

/** xtb's `[ERROR]`/`[WARNING]` boxes hold `-N- source: message` lines. */
function messages(lines: string[]): XtbMessage[] {
  const out: XtbMessage[] = [];
  let level: XtbMessage['level'] | null = null;
  let inBlock = 0;
  for (const l of lines) {
    const t = l.trim();
    if (t.startsWith('[ERROR]')) { level = 'error'; inBlock = 0; continue; }
    if (t.startsWith('[WARNING]')) { level = 'warning'; inBlock = 0; continue; }
    // The box's closing rule ends it; its opening rule comes before the [ERROR]/[WARNING] tag.
    if (/^#{10,}$/.test(t) && inBlock > 0) { level = null; inBlock = 0; continue; }
    const m = /^-(\d+)-\s+(.*\S)\s*$/.exec(t);
    if (m) { out.push({ level: level ?? 'error', depth: Number(m[1]), text: m[2] }); inBlock++; }
  }
  return out;
}

function runtimeError(lines: string[]): string | null {
  for (const l of lines) {
    const t = l.trim();
    const m = /^In file '[^']*', around line \d+: (.+)$/.exec(t)
      ?? /^Fortran runtime error: (.+)$/.exec(t)
      ?? /^(Program received signal .+)$/.exec(t)
      ?? /^forrtl: (.+)$/.exec(t);
    if (m) return m[0].startsWith('Program received') ? m[1] : t;
  }
  return null;
}

export function parseXtbOut(text: string): XtbLog {
  const lines = textLines(text);
  const trimmed = lines.map((l) => l.trim());
  const has = (s: string) => trimmed.includes(s);
  const any = (re: RegExp) => trimmed.some((l) => re.test(l));
  const callLine = lines.find((l) => /^\s*program call\s*:/.test(l));
  const versionLine = lines.find((l) => /^\s*\*\s*xtb version\s/.test(l));
  const banner = trimmed.map((l) => /^\|\s*([A-Za-z0-9 -]+?)\s*\|$/.exec(l)?.[1].replace(/\s/g, '')).find((b) => b && BANNER[b]);
  const scfFailed = any(/convergence criteria cannot be satisfied/) || any(/Self consistent charge iterator did not converge/);
  const scfOk = any(/\*\*\* convergence criteria satisfied after/);
  const optFailed = any(/FAILED TO CONVERGE GEOMETRY OPTIMIZATION/);
  const optOk = any(/GEOMETRY OPTIMIZATION CONVERGED/);
  return {
    xtbVersion: versionLine ? /xtb version\s+(\S+)/.exec(versionLine)![1] : null,
    xtbVersionLine: versionLine ? versionLine.trim().replace(/^\*\s*/, '').replace(/\s+/g, ' ') : null,
    programCall: callLine ? parseProgramCall(callLine.split(/program call\s*:/)[1]) : null,
    bannerMethod: banner ? BANNER[banner] : null,
    normalTermination: has('normal termination of xtb'),
    abnormalTermination: has('abnormal termination of xtb'),
    crashed: any(/^Error termination\b/) || any(/^ERROR STOP\b/) || any(/^Program received signal/) || any(/^forrtl:/),
    runtimeError: runtimeError(lines),
    messages: messages(lines),
    totalEnergyEh: lastMatch(lines, /\|\s*TOTAL ENERGY\s+(\S+)\s+Eh/) ?? lastMatch(lines, /::\s*total energy\s+(\S+)\s+Eh/),
    gradientNormEhBohr: lastMatch(lines, /\|\s*GRADIENT NORM\s+(\S+)/),
    homoLumoGapEv: lastMatch(lines, /\|\s*HOMO-LUMO GAP\s+(\S+)\s+eV/),
    dipole: moleculeDipole(lines),
    scfConverged: scfFailed ? false : scfOk ? true : null,
    optConverged: optFailed ? false : optOk ? true : null,
    wallTimeS: wallTime(lines),
  };
}

/** xtb's own explanation of a failure: the deepest (`-1-`) entry of its error stack. */
export function xtbErrorMessage(log: XtbLog): string | null {
  const errors = log.messages.filter((m) => m.level === 'error');
  if (errors.length === 0) return null;
  return errors.reduce((a, b) => (b.depth < a.depth ? b : a)).text;
}

/** Did xtb stop, one way or another? A log without any end marker belongs to a run still in progress. */
export const xtbFinished = (log: XtbLog): boolean => log.normalTermination || log.abnormalTermination || log.crashed;
