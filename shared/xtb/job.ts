// Turns the texts of one xtb run into an ingest calculation: `parseXtbRun` for any run directory (runner),
// `parseJobFiles` for a Quantum Forge job directory (uploader: metadata.json + results.json on top).
// xtb's own files are the truth; results.json only fills gaps and is cross-checked.
import { IngestCalculation, type IngestCalculationInput, type Results } from '../contract/ingest.ts';
import type { Geometry, Method, Task, Vec3 } from '../contract/common.ts';
import { bohrToAngstrom, dipoleDebye } from '../units.ts';
import { parseCharges } from './charges.ts';
import { parseGradient } from './gradient.ts';
import { parseMetadata } from './metadata.ts';
import { parseResultsJson, type ResultsJson } from './results-json.ts';
import { parseXtbOut, xtbErrorMessage, type XtbLog } from './xtb-out.ts';
import { parseXtbOutJson, type XtbOutJson } from './xtbout-json.ts';
import { formulaOf, parseXtbOptComment, parseXyz } from './xyz.ts';
import { commandWords } from './xtb-args.ts';
import { PARSER_VERSION } from './version.ts';

/** The files of a job directory the parser reads; anything else in the directory is ignored. */
export const JOB_FILES = [
  'metadata.json', 'input.xyz', 'xtb.out', 'xtbout.json', 'charges', 'gfnff_charges', 'gradient',
  'xtbopt.xyz', 'results.json', '.sccnotconverged',
] as const;
export type JobFileName = (typeof JOB_FILES)[number];
/** File name → text, for the files that exist. */
export type JobFiles = Partial<Record<JobFileName, string>>;

export type JobOutcome = 'completed' | 'failed_calculation' | 'skipped_running' | 'invalid';

export interface ParsedJob {
  /** The job directory relative to the jobs root, `/`-separated. */
  path: string;
  job_id: string;
  outcome: JobOutcome;
  /** Present for completed and failed_calculation. */
  calculation?: IngestCalculationInput;
  warnings: string[];
  /** Why a job is invalid or skipped. */
  error?: string;
}

/** What the caller knows about a run before reading its outputs (metadata.json, or the runner's request). */
export interface RunSpec {
  molecule: { smiles: string; name?: string | null };
  method: Method;
  task: Task;
  charge?: number;
  multiplicity?: number;
  solvent?: string | null;
  source?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  batch_item_id?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  /**
   * The words xtb was started with (the runner knows them exactly). Without them, the words of the
   * program call xtb printed are used: they give the calculation's specification.
   */
  xtb_args?: string[];
  /** The exact command line (the runner's); without it, the program call xtb printed. */
  command?: string;
}

export interface RunParse {
  outcome: 'completed' | 'failed_calculation' | 'running' | 'invalid';
  calculation?: IngestCalculationInput;
  warnings: string[];
  error?: string;
}

const ENERGY_TOL_EH = 1e-6;
const POSITION_TOL_A = 1e-4;

const sameElements = (a: readonly { element: string }[], b: readonly { element: string }[]) =>
  a.length === b.length && a.every((x, i) => x.element === b[i].element);

function atomMismatch(what: string, atoms: readonly { element: string }[], ref: Geometry, refName: string): string | null {
  if (atoms.length !== ref.length) return `${what} has ${atoms.length} atoms, ${refName} has ${ref.length}`;
  const i = atoms.findIndex((a, k) => a.element !== ref[k].element);
  return i < 0 ? null : `${what} atom ${i + 1} is ${atoms[i].element}, ${refName} has ${ref[i].element}`;
}

const maxAbsDiff = (a: readonly number[], b: readonly number[]) => Math.max(0, ...a.map((x, i) => Math.abs(x - b[i])));

class Invalid extends Error {}

/** The run's settings as xtb saw them must be the ones we are about to store. */
function checkCall(log: XtbLog, spec: RunSpec): void {
  const c = log.programCall;
  const method = c?.method ?? log.bannerMethod;
  const diffs: string[] = [];
  if (method && method !== spec.method) diffs.push(`method ${method} (expected ${spec.method})`);
  if (c) {
    if (c.task !== spec.task) diffs.push(`task ${c.task} (expected ${spec.task})`);
    if (c.charge !== (spec.charge ?? 0)) diffs.push(`charge ${c.charge} (expected ${spec.charge ?? 0})`);
    if (c.uhf !== (spec.multiplicity ?? 1) - 1) diffs.push(`--uhf ${c.uhf} (expected multiplicity ${spec.multiplicity ?? 1})`);
    if (c.solvent !== (spec.solvent?.toLowerCase() ?? null)) diffs.push(`solvent ${c.solvent ?? 'none'} (expected ${spec.solvent ?? 'none'})`);
  }
  if (diffs.length) throw new Invalid(`xtb.out shows a different run: ${diffs.join(', ')}`);
}

/** Per-atom geometry of the results: the optimised one for opt, the input otherwise. */
function resultGeometry(files: JobFiles, spec: RunSpec, input: Geometry, fallback: ResultsJson | null, warn: (w: string) => void) {
  if (spec.task !== 'opt') return { atoms: input, comment: null };
  if (files['xtbopt.xyz'] !== undefined) {
    const opt = parseXyz(files['xtbopt.xyz']);
    if (!opt.ok) throw new Invalid(`xtbopt.xyz: ${opt.error}`);
    const bad = atomMismatch('xtbopt.xyz', opt.value.atoms, input, 'input.xyz');
    if (bad) throw new Invalid(bad);
    return { atoms: opt.value.atoms, comment: parseXtbOptComment(opt.value.comment) };
  }
  const fromResults = fallback?.atoms;
  if (fromResults && sameElements(fromResults, input) && fromResults.every((a) => a.xyz)) {
    warn('xtbopt.xyz is missing: the final geometry was taken from results.json');
    return { atoms: fromResults.map((a) => ({ element: a.element, xyz: a.xyz! })), comment: null };
  }
  throw new Invalid('task is opt but xtbopt.xyz is missing');
}

function readCharges(files: JobFiles, spec: RunSpec, atoms: Geometry, json: XtbOutJson | null, fallback: ResultsJson | null, warn: (w: string) => void): number[] | null {
  const order = spec.method === 'GFN-FF' ? (['gfnff_charges', 'charges'] as const) : (['charges', 'gfnff_charges'] as const);
  const name = order.find((f) => files[f] !== undefined);
  if (name) {
    const q = parseCharges(files[name]!, name);
    if (!q.ok) throw new Invalid(q.error);
    if (q.value.length !== atoms.length) throw new Invalid(`${name} has ${q.value.length} values for ${atoms.length} atoms`);
    if (json?.partialCharges?.length === atoms.length && maxAbsDiff(q.value, json.partialCharges) > 1e-6) {
      warn(`xtbout.json partial charges differ from ${name} by up to ${maxAbsDiff(q.value, json.partialCharges).toExponential(2)} e; ${name} was used`);
    }
    return q.value;
  }
  if (json?.partialCharges?.length === atoms.length) return json.partialCharges;
  const fromResults = fallback?.atoms;
  if (fromResults && sameElements(fromResults, atoms) && fromResults.every((a) => a.charge !== null)) {
    warn('no charges file: charges were taken from results.json');
    return fromResults.map((a) => a.charge!);
  }
  warn('no per-atom charges (charges file missing)');
  return null;
}

function readGradient(files: JobFiles, spec: RunSpec, atoms: Geometry, energy: number, fallback: ResultsJson | null, warn: (w: string) => void): Vec3[] | null {
  const text = files.gradient;
  if (text === undefined) {
    if (spec.task !== 'grad') return null;
    const fromResults = fallback?.atoms;
    if (fromResults && sameElements(fromResults, atoms) && fromResults.every((a) => a.gradient)) {
      warn('gradient file is missing: the gradient was taken from results.json');
      return fromResults.map((a) => a.gradient!);
    }
    warn('task is grad but there is no gradient file');
    return null;
  }
  // A stray gradient beside an sp/opt run is extra, not essential: drop it rather than reject the job.
  const reject = (why: string): null => {
    if (spec.task === 'grad') throw new Invalid(why);
    warn(`${why}; the gradient was not stored`);
    return null;
  };
  const g = parseGradient(text);
  if (!g.ok) return reject(g.error);
  const bad = atomMismatch('gradient', g.value.elements.map((element) => ({ element })), atoms, spec.task === 'opt' ? 'xtbopt.xyz' : 'input.xyz');
  if (bad) return reject(bad);
  const off = Math.max(...g.value.coordsBohr.map((c, i) => maxAbsDiff(c.map(bohrToAngstrom), atoms[i].xyz)));
  if (off > POSITION_TOL_A) return reject(`gradient coordinates are up to ${off.toExponential(2)} Å away from the geometry`);
  if (g.value.energyEh !== null && Math.abs(g.value.energyEh - energy) > ENERGY_TOL_EH) {
    warn(`gradient file energy ${g.value.energyEh} differs from xtb.out's ${energy}`);
  }
  return g.value.gradient;
}

/** sqrt(Σ g²) over every component: what xtb prints as GRADIENT NORM (Eh/Bohr). */
export const gradientNorm = (gradient: readonly Vec3[]): number => Math.sqrt(gradient.reduce((s, g) => s + g[0] ** 2 + g[1] ** 2 + g[2] ** 2, 0));

/**
 * The gradient norm of a run that has a gradient: every `opt` (its last step), and any task whose
 * gradient is stored (`grad`, or a stray gradient file that matched). xtb's printed value first (it
 * has 12 digits); else the one in xtbopt.xyz or results.json; else computed from the stored gradient.
 */
function gradientNormOf(task: Task, log: XtbLog | null, optComment: number | null, fallback: ResultsJson | null, gradient: Vec3[] | null, warn: (w: string) => void): number | null {
  if (task !== 'opt' && !gradient) return null;
  const computed = gradient ? gradientNorm(gradient) : null;
  const printed = log?.gradientNormEhBohr ?? null;
  if (task !== 'opt' && printed !== null && computed !== null && Math.abs(printed - computed) > 1e-6 * Math.max(1, printed)) {
    warn(`xtb.out's GRADIENT NORM ${printed} differs from the stored gradient's norm ${computed.toPrecision(12)}`);
  }
  return printed ?? optComment ?? fallback?.gradientNormEhBohr ?? computed;
}

function dipoleOf(log: XtbLog | null, json: XtbOutJson | null, task: Task): Pick<Results, 'dipole_debye' | 'dipole_au'> {
  const printed = log?.dipole;
  if (printed) {
    // xtbout.json has more digits, but after --opt (6.5.1) its dipole matches neither the input nor the final geometry,
    // while the printed block matches the final one. Elsewhere use it only if it rounds to what xtb printed.
    const tol = 0.5 * 10 ** -printed.decimals + 1e-9;
    const precise = task !== 'opt' && json?.dipoleAu && maxAbsDiff(json.dipoleAu, printed.au) <= tol ? json.dipoleAu : null;
    return { dipole_au: precise ?? printed.au, dipole_debye: printed.debye };
  }
  if (json?.dipoleAu && task !== 'opt') return { dipole_au: json.dipoleAu, dipole_debye: dipoleDebye(json.dipoleAu) };
  return { dipole_au: null, dipole_debye: null };
}

function failureMessage(log: XtbLog): string {
  const own = xtbErrorMessage(log);
  if (own) return own;
  const why = log.runtimeError ?? (log.optConverged === false ? 'geometry optimization did not converge' : null);
  return why ? `abnormal termination of xtb (${why})` : 'abnormal termination of xtb';
}

function completedResults(files: JobFiles, spec: RunSpec, log: XtbLog | null, fallback: ResultsJson | null, input: Geometry, warn: (w: string) => void) {
  let json: XtbOutJson | null = null;
  if (files['xtbout.json'] !== undefined) {
    const j = parseXtbOutJson(files['xtbout.json']);
    if (j.ok) json = j.value;
    else warn(j.error);
    for (const p of json?.nonFinite ?? []) warn(`xtbout.json: ${p} is NaN or infinite`);
  }
  const geo = resultGeometry(files, spec, input, fallback, warn);
  let energy = log?.totalEnergyEh ?? json?.totalEnergyEh ?? geo.comment?.energyEh ?? null;
  if (energy === null && fallback?.energyEh != null) {
    energy = fallback.energyEh;
    warn('no total energy in xtb.out: the energy was taken from results.json');
  }
  if (energy === null) throw new Invalid('xtb.out ends normally but holds no TOTAL ENERGY');
  if (json?.totalEnergyEh != null && Math.abs(json.totalEnergyEh - energy) > ENERGY_TOL_EH) {
    warn(`xtbout.json total energy ${json.totalEnergyEh} differs from xtb.out's ${energy}`);
  }
  if (geo.comment && Math.abs(geo.comment.energyEh - energy) > ENERGY_TOL_EH) {
    warn(`xtbopt.xyz energy ${geo.comment.energyEh} differs from xtb.out's ${energy}`);
  }
  const charges = readCharges(files, spec, geo.atoms, json, fallback, warn);
  const gradient = readGradient(files, spec, geo.atoms, energy, fallback, warn);
  const ff = spec.method === 'GFN-FF';
  const scf = files['.sccnotconverged'] !== undefined ? false : log?.scfConverged ?? null;
  const checks = [scf, spec.task === 'opt' ? log?.optConverged ?? null : null].filter((x): x is boolean => x !== null);
  const converged = checks.length ? checks.every(Boolean) : log ? true : fallback?.converged ?? null;
  if (spec.task === 'opt' && log?.optConverged === false) warn('geometry optimization did not converge (FAILED TO CONVERGE GEOMETRY OPTIMIZATION): stored with converged = false');
  if (scf === false) warn('xtb reports an SCF that did not converge: stored with converged = false');
  const results: Results = {
    total_energy_eh: energy,
    homo_lumo_gap_ev: ff ? null : log?.homoLumoGapEv ?? json?.homoLumoGapEv ?? fallback?.gapEv ?? null,
    ...(ff ? { dipole_debye: null, dipole_au: null } : dipoleOf(log, json, spec.task)),
    converged,
    gradient_norm_eh_bohr: gradientNormOf(spec.task, log, geo.comment?.gradientNormEhBohr ?? null, fallback, gradient, warn),
    wall_time_s: log?.wallTimeS ?? fallback?.wallTimeS ?? null,
    xtb_version: log?.xtbVersion ?? json?.xtbVersion ?? geo.comment?.xtbVersion ?? fallback?.xtbVersion ?? null,
  };
  if (!ff && results.dipole_debye == null && fallback?.dipoleDebye != null) {
    results.dipole_debye = fallback.dipoleDebye;
    results.dipole_au = fallback.dipoleAu;
  }
  return {
    results, charges, gradient,
    final_geometry: spec.task === 'opt' ? geo.atoms : null,
    program_call: log?.programCall?.raw ?? json?.programCall ?? fallback?.programCall ?? null,
  };
}

/**
 * Reads a finished (or unfinished) xtb run. `fallback` is a second-hand summary (results.json) used
 * only where xtb's files are silent; it never overrides them.
 */
export function parseXtbRun(files: JobFiles, spec: RunSpec, opts: { fallback?: ResultsJson | null } = {}): RunParse {
  const warnings: string[] = [];
  const warn = (w: string) => { if (!warnings.includes(w)) warnings.push(w); };
  const fallback = opts.fallback ?? null;
  try {
    if (files['input.xyz'] === undefined) throw new Invalid('input.xyz is missing');
    const xyz = parseXyz(files['input.xyz']);
    if (!xyz.ok) throw new Invalid(`input.xyz: ${xyz.error}`);
    const geometry = xyz.value.atoms;
    const log = files['xtb.out'] !== undefined ? parseXtbOut(files['xtb.out']) : null;
    if (log) checkCall(log, spec);
    const base: IngestCalculationInput = {
      molecule: { smiles: spec.molecule.smiles, name: spec.molecule.name ?? null },
      charge: spec.charge ?? 0, multiplicity: spec.multiplicity ?? 1,
      method: spec.method, task: spec.task, solvent: spec.solvent ?? null,
      status: 'completed', geometry,
      source: spec.source ?? null, tags: spec.tags ?? [], metadata: { ...spec.metadata },
      ...(spec.batch_item_id ? { batch_item_id: spec.batch_item_id } : {}),
      ...(spec.started_at ? { started_at: spec.started_at } : {}),
      ...(spec.completed_at ? { completed_at: spec.completed_at } : {}),
    };
    const completed = (from: XtbLog | null): IngestCalculationInput => {
      const r = completedResults(files, spec, from, fallback, geometry, warn);
      return { ...base, results: r.results, charges: r.charges, gradient: r.gradient, final_geometry: r.final_geometry,
        metadata: { ...base.metadata, program_call: r.program_call } };
    };
    let calc: IngestCalculationInput;
    let outcome: RunParse['outcome'];
    if (log?.normalTermination) {
      if (fallback?.status === 'failed') warn(`results.json says failed (${fallback.error ?? 'no message'}) but xtb.out ends with normal termination`);
      for (const m of log.messages.filter((x) => x.level === 'warning')) warn(`xtb warning: ${m.text}`);
      calc = completed(log);
      outcome = 'completed';
    } else if (log && (log.abnormalTermination || log.crashed)) {
      if (fallback?.status === 'completed') warn('results.json says completed but xtb.out shows an abnormal termination');
      calc = { ...base, status: 'failed', error_message: failureMessage(log),
        metadata: { ...base.metadata, program_call: log.programCall?.raw ?? fallback?.programCall ?? null } };
      outcome = 'failed_calculation';
    } else if (fallback?.status === 'failed') {
      warn(log ? 'xtb.out has no termination line' : 'xtb.out is missing');
      const why = fallback.error ?? (fallback.exitCode != null ? `xtb exited with code ${fallback.exitCode}` : 'abnormal termination of xtb');
      calc = { ...base, status: 'failed', error_message: why, metadata: { ...base.metadata, program_call: fallback.programCall } };
      outcome = 'failed_calculation';
    } else if (fallback?.status === 'completed' && !log) {
      warn('xtb.out is missing: results were taken from results.json and the files beside it');
      calc = completed(null);
      outcome = 'completed';
    } else if (fallback?.status === 'completed') {
      throw new Invalid('results.json says completed but xtb.out has no termination line (truncated log?)');
    } else {
      return { outcome: 'running', warnings, error: log ? 'xtb.out has no termination line yet and there is no results.json' : 'xtb has not started (no xtb.out)' };
    }
    // What the run was: its command line (the specification's words) and how it was read.
    const call = typeof calc.metadata?.program_call === 'string' ? calc.metadata.program_call : null;
    const xtbArgs = spec.xtb_args ?? (call ? commandWords(call) : null);
    calc = {
      ...calc,
      ...(xtbArgs ? { xtb_args: xtbArgs } : {}),
      provenance: {
        command: spec.command ?? call,
        xtb_version: log?.xtbVersionLine ?? null,
        parser_version: PARSER_VERSION,
        files: [],
        input_xyz: files['input.xyz'],
      },
    };
    const check = IngestCalculation.safeParse(calc);
    if (!check.success) {
      throw new Invalid(`not a valid calculation: ${check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return { outcome, calculation: calc, warnings };
  } catch (e) {
    if (e instanceof Invalid) return { outcome: 'invalid', warnings, error: e.message };
    throw e;
  }
}

/** results.json is second-hand: name every way it disagrees with what was stored. */
function crossCheckResults(calc: IngestCalculationInput, r: ResultsJson): string[] {
  const out: string[] = [];
  const res = calc.results;
  if (calc.status === 'completed' && res && r.status === 'completed') {
    if (r.energyEh !== null && Math.abs(r.energyEh - res.total_energy_eh) > ENERGY_TOL_EH) {
      out.push(`results.json: energy ${r.energyEh} Eh differs from xtb's ${res.total_energy_eh} Eh by more than ${ENERGY_TOL_EH} Eh; xtb's value was stored`);
    }
    const atoms = calc.final_geometry ?? calc.geometry;
    if (r.atoms) {
      const bad = atomMismatch('results.json', r.atoms, atoms, calc.final_geometry ? 'xtbopt.xyz' : 'input.xyz');
      if (bad) out.push(`${bad}; its per-atom data was ignored`);
      else {
        const q = r.atoms.map((a) => a.charge);
        if (calc.charges && q.every((x) => x !== null) && maxAbsDiff(q as number[], calc.charges) > 1e-6) out.push('results.json: atom charges differ from xtb\'s charges file');
        const far = r.atoms.some((a, i) => a.xyz && maxAbsDiff(a.xyz, atoms[i].xyz) > POSITION_TOL_A);
        if (far) out.push('results.json: atom positions differ from the geometry xtb used');
      }
    }
  }
  return out;
}

/**
 * Parses one Quantum Forge job directory given the texts of its files. `path` is the directory
 * relative to the jobs root; its last segment is the job id of legacy jobs.
 */
export function parseJobFiles(path: string, files: JobFiles): ParsedJob {
  const dirName = path.split('/').filter(Boolean).pop() ?? path;
  if (files['metadata.json'] === undefined) {
    return { path, job_id: dirName, outcome: 'invalid', warnings: [], error: 'metadata.json is missing' };
  }
  const meta = parseMetadata(files['metadata.json'], dirName);
  if (!meta.ok) return { path, job_id: dirName, outcome: 'invalid', warnings: [], error: meta.error };
  const m = meta.value;
  const warnings: string[] = [];
  if (m.job_id !== dirName) warnings.push(`metadata.json job_id ${m.job_id} differs from the directory name ${dirName}`);
  let results: ResultsJson | null = null;
  if (files['results.json'] !== undefined) {
    const r = parseResultsJson(files['results.json']);
    results = r.value;
    warnings.push(...r.problems);
  }
  const run = parseXtbRun(files, {
    molecule: { smiles: m.smiles, name: m.name },
    method: m.method, task: m.task, charge: m.charge, multiplicity: m.multiplicity, solvent: m.solvent,
    source: `upload:${path}`, tags: m.tags,
    metadata: {
      job_id: m.job_id, metadata_schema: m.schema,
      ...(m.created_at ? { created_at: m.created_at } : {}),
      ...(m.submitted ? { submitted: m.submitted } : {}),
    },
  }, { fallback: results });
  warnings.push(...run.warnings);
  const outcome: JobOutcome = run.outcome === 'running' ? 'skipped_running' : run.outcome;
  if (run.calculation) {
    if (files['results.json'] === undefined) warnings.push('results.json is missing: the result was read from xtb\'s own files');
    if (results) warnings.push(...crossCheckResults(run.calculation, results));
    if (m.formula !== null && files['input.xyz'] !== undefined) {
      const formula = formulaOf(run.calculation.geometry.map((a) => a.element));
      if (formula !== m.formula) warnings.push(`metadata.json formula ${m.formula} differs from input.xyz's ${formula}`);
    }
  }
  return {
    path, job_id: m.job_id, outcome, warnings,
    ...(run.calculation ? { calculation: run.calculation } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
}
