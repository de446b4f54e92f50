// results.json, the app's summary written after xtb ended (schema 2, legacy schema 1). It is second-hand:
// damage (truncation, NaN, wrong shape) is reported as problems so the job can still be read from xtb's files.
import { z } from 'zod';
import type { Vec3 } from '../contract/common.ts';
import { parseJsonLenient } from './text.ts';

export interface ResultsAtom {
  element: string;
  charge: number | null;
  /** Å; the final geometry for `opt`. */
  xyz: Vec3 | null;
  /** Eh/Bohr. */
  gradient: Vec3 | null;
}

export interface ResultsJson {
  schema: 1 | 2;
  status: 'completed' | 'failed';
  energyEh: number | null;
  gapEv: number | null;
  dipoleDebye: number | null;
  dipoleAu: Vec3 | null;
  converged: boolean | null;
  wallTimeS: number | null;
  xtbVersion: string | null;
  programCall: string | null;
  /** Schema 2 only; legacy results carry no per-atom data. */
  atoms: ResultsAtom[] | null;
  gradientNormEhBohr: number | null;
  error: string | null;
  exitCode: number | null;
}

export interface ResultsJsonParse {
  /** null when nothing trustworthy could be read. */
  value: ResultsJson | null;
  /** What is wrong with the file, phrased to be shown to a user (`results.json: …`). */
  problems: string[];
}

const n = z.number().nullish();
const v3 = z.tuple([z.number().nullable(), z.number().nullable(), z.number().nullable()]).nullish();
const V2 = z.looseObject({
  schema: z.literal(2),
  status: z.enum(['completed', 'failed']),
  energy_hartree: n, gap_ev: n, dipole_debye: n, dipole_au: v3,
  converged: z.boolean().nullish(), wall_time_s: n,
  xtb_version: z.string().nullish(), program_call: z.string().nullish(),
  atoms: z.array(z.looseObject({
    element: z.string(), charge: n, xyz: v3, gradient: v3,
  })).nullish(),
  gradient_norm: n, error: z.string().nullish(), exit_code: z.number().int().nullish(),
});
const V1 = z.looseObject({ energy: n, gap: n, dipole: n, ok: z.boolean(), time: n });

const vec = (v: readonly (number | null)[] | null | undefined): Vec3 | null =>
  v && v.every((x) => x !== null) ? (v as Vec3) : null;

export function parseResultsJson(text: string): ResultsJsonParse {
  const json = parseJsonLenient(text);
  if (!json.ok) return { value: null, problems: [`results.json ${json.error}`] };
  const problems = json.value.nonFinite.map((p) => `results.json: ${p} is NaN or infinite`);
  const raw = json.value.value as Record<string, unknown> | null;
  const isV2 = !!raw && typeof raw === 'object' && 'schema' in raw;
  const r = isV2 ? V2.safeParse(raw) : V1.safeParse(raw);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { value: null, problems: [...problems, `results.json (schema ${isV2 ? 2 : 1}) is invalid: ${why}`] };
  }
  let value: ResultsJson;
  if (isV2) {
    const d = r.data as z.infer<typeof V2>;
    value = {
      schema: 2, status: d.status, energyEh: d.energy_hartree ?? null, gapEv: d.gap_ev ?? null,
      dipoleDebye: d.dipole_debye ?? null, dipoleAu: vec(d.dipole_au), converged: d.converged ?? null,
      wallTimeS: d.wall_time_s ?? null, xtbVersion: d.xtb_version ?? null, programCall: d.program_call ?? null,
      atoms: d.atoms?.map((a) => ({ element: a.element, charge: a.charge ?? null, xyz: vec(a.xyz), gradient: vec(a.gradient) })) ?? null,
      gradientNormEhBohr: d.gradient_norm ?? null, error: d.error ?? null, exitCode: d.exit_code ?? null,
    };
  } else {
    const d = r.data as z.infer<typeof V1>;
    value = {
      schema: 1, status: d.ok ? 'completed' : 'failed', energyEh: d.energy ?? null, gapEv: d.gap ?? null,
      dipoleDebye: d.dipole ?? null, dipoleAu: null, converged: null, wallTimeS: d.time ?? null,
      xtbVersion: null, programCall: null, atoms: null, gradientNormEhBohr: null, error: null, exitCode: null,
    };
  }
  const energyKey = isV2 ? 'energy_hartree' : 'energy';
  if (value.status === 'completed' && value.energyEh === null && !json.value.nonFinite.includes(energyKey)) {
    problems.push(`results.json: status is completed but ${energyKey} is missing`);
  }
  return { value, problems };
}
