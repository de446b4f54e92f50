// xtb's own JSON summary (`xtb --json` → xtbout.json): energy, gap, dipole vector and charges at full precision.
import { z } from 'zod';
import type { Vec3 } from '../contract/common.ts';
import { fail, ok, parseJsonLenient, type Parsed } from './text.ts';

export interface XtbOutJson {
  totalEnergyEh: number | null;
  homoLumoGapEv: number | null;
  /** Dipole vector, e·Bohr. */
  dipoleAu: Vec3 | null;
  partialCharges: number[] | null;
  programCall: string | null;
  method: string | null;
  /** `6.5.1`, without the build tag xtb appends (`6.5.1 (unknown)`). */
  xtbVersion: string | null;
  /** Fields that held NaN/Infinity. */
  nonFinite: string[];
}

const num = z.number().nullish();
const Schema = z.looseObject({
  'total energy': num,
  'HOMO-LUMO gap/eV': num,
  dipole: z.array(z.number().nullable()).nullish(),
  'partial charges': z.array(z.number().nullable()).nullish(),
  'program call': z.string().nullish(),
  method: z.string().nullish(),
  'xtb version': z.string().nullish(),
});

export function parseXtbOutJson(text: string): Parsed<XtbOutJson> {
  const json = parseJsonLenient(text);
  if (!json.ok) return fail(`xtbout.json ${json.error}`);
  const r = Schema.safeParse(json.value.value);
  if (!r.success) return fail(`xtbout.json has an unexpected shape: ${r.error.issues[0]?.message ?? ''}`);
  const j = r.data;
  const d = j.dipole;
  const q = j['partial charges'];
  return ok({
    totalEnergyEh: j['total energy'] ?? null,
    homoLumoGapEv: j['HOMO-LUMO gap/eV'] ?? null,
    dipoleAu: d && d.length === 3 && d.every((x) => x !== null) ? (d as Vec3) : null,
    partialCharges: q && q.every((x) => x !== null) ? (q as number[]) : null,
    programCall: j['program call'] ?? null,
    method: j.method ?? null,
    xtbVersion: j['xtb version']?.trim().split(/\s+/)[0] ?? null,
    nonFinite: json.value.nonFinite,
  });
}
