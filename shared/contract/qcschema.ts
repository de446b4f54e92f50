// QCSchema AtomicResult (schema_name "qcschema_output"), as QCEngine's xtb harness (xtb-python)
// writes it, mapped onto the native ingest item. Bohr → Å and a.u. → Debye happen here, via units.ts.
import { z } from 'zod';
import { normaliseSymbol } from '../chem/elements.ts';
import { bohrToAngstrom, dipoleDebye } from '../units.ts';
import { Finite, Int32, MAX_ATOMS, Metadata, Uuid, Vec3 } from './common.ts';
import type { IngestCalculationInput } from './ingest.ts';

const FlatOrNested = z.union([z.array(Finite), z.array(Vec3)]);

export const QcSchemaAtomicResult = z.object({
  schema_name: z.literal('qcschema_output'),
  schema_version: z.number().optional(),
  molecule: z.object({
    symbols: z.array(z.string().min(1, 'must be an element symbol such as C or Cl')).min(1).max(MAX_ATOMS),
    /** Bohr, flat [x0, y0, z0, x1, …] or nested. */
    geometry: FlatOrNested,
    molecular_charge: Int32.default(0),
    molecular_multiplicity: Int32.min(1).default(1),
    name: z.string().optional(),
    identifiers: z.object({
      canonical_isomeric_smiles: z.string().optional(),
      canonical_smiles: z.string().optional(),
      smiles: z.string().optional(),
    }).passthrough().optional(),
    extras: z.record(z.string(), z.unknown()).nullish(),
  }).passthrough(),
  driver: z.enum(['energy', 'gradient', 'properties']),
  model: z.object({ method: z.string() }).passthrough(),
  keywords: z.record(z.string(), z.unknown()).default({}),
  return_result: z.unknown(),
  properties: z.object({
    return_energy: Finite.nullish(),
    scf_dipole_moment: Vec3.nullish(),
  }).passthrough().default({}),
  extras: z.object({
    xtb: z.object({
      mulliken_charges: z.array(Finite).nullish(),
      return_gradient: FlatOrNested.nullish(),
    }).passthrough().optional(),
    smiles: z.string().optional(),
    batch_item_id: Uuid.optional(),
    source: z.string().optional(),
    tags: z.array(z.string()).optional(),
    metadata: Metadata.optional(),
  }).passthrough().default({}),
  success: z.boolean(),
  error: z.object({ error_type: z.string().optional(), error_message: z.string() }).passthrough().nullish(),
  provenance: z.object({ creator: z.string().optional(), version: z.string().optional() }).passthrough().optional(),
});
export type QcSchemaAtomicResult = z.output<typeof QcSchemaAtomicResult>;

const METHOD_ALIASES: Record<string, IngestCalculationInput['method']> = {
  gfn2xtb: 'GFN2-xTB', gfn2: 'GFN2-xTB',
  gfn1xtb: 'GFN1-xTB', gfn1: 'GFN1-xTB',
  gfn0xtb: 'GFN0-xTB', gfn0: 'GFN0-xTB',
  gfnff: 'GFN-FF',
};

function triples(values: number[] | [number, number, number][]): [number, number, number][] {
  if (values.length === 0 || Array.isArray(values[0])) return values as [number, number, number][];
  const flat = values as number[];
  const out: [number, number, number][] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) out.push([flat[i], flat[i + 1], flat[i + 2]]);
  return out;
}

const isQcSchemaLike = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && (value as { schema_name?: unknown }).schema_name === 'qcschema_output';
export { isQcSchemaLike };

/**
 * Maps a QCSchema result onto a native ingest item. Shape problems that zod cannot see (a geometry
 * whose length is not 3 × atoms) are left for the native schema to reject with a field path.
 */
export function qcschemaToIngest(r: QcSchemaAtomicResult): IngestCalculationInput {
  const symbols = r.molecule.symbols.map(normaliseSymbol);
  const positions = triples(r.molecule.geometry);
  const geometry = symbols.map((element, i) => ({
    element,
    xyz: (positions[i] ?? [NaN, NaN, NaN]).map(bohrToAngstrom) as [number, number, number],
  }));
  const ids = r.molecule.identifiers ?? {};
  const smiles = ids.canonical_isomeric_smiles ?? ids.canonical_smiles ?? ids.smiles ?? r.extras.smiles ?? '';
  const method = METHOD_ALIASES[r.model.method.toLowerCase().replace(/[^a-z0-9]/g, '')];
  const energy = r.properties.return_energy ?? (typeof r.return_result === 'number' ? r.return_result : undefined);
  const gradientSource = r.extras.xtb?.return_gradient ?? (r.driver === 'gradient' ? r.return_result as number[] : undefined);
  const dipole = r.properties.scf_dipole_moment ?? undefined;
  const solvent = typeof r.keywords.solvent === 'string' ? r.keywords.solvent : null;
  // xtb-python's keywords that change results, as the xtb flags that give the specification.
  const xtbArgs: string[] = [];
  for (const [key, flag] of [['accuracy', '--acc'], ['electronic_temperature', '--etemp'], ['max_iterations', '--iterations']] as const) {
    const v = r.keywords[key];
    if (typeof v === 'number' && Number.isFinite(v)) xtbArgs.push(flag, String(v));
  }
  return {
    molecule: { smiles, name: r.molecule.name ?? null },
    charge: r.molecule.molecular_charge,
    multiplicity: r.molecule.molecular_multiplicity,
    // An unknown method name stays as given so that validation names it.
    method: method ?? (r.model.method as IngestCalculationInput['method']),
    task: r.driver === 'gradient' ? 'grad' : 'sp',
    solvent,
    status: r.success ? 'completed' : 'failed',
    geometry,
    results: r.success
      ? {
          total_energy_eh: energy as number,
          dipole_au: dipole ?? null,
          dipole_debye: dipole ? dipoleDebye(dipole) : null,
          xtb_version: r.provenance?.version ?? null,
        }
      : null,
    charges: r.extras.xtb?.mulliken_charges ?? null,
    gradient: Array.isArray(gradientSource) ? triples(gradientSource) : null,
    error_message: r.success ? null : (r.error?.error_message ?? 'QCSchema result without success'),
    ...(xtbArgs.length ? { xtb_args: xtbArgs } : {}),
    batch_item_id: r.extras.batch_item_id ?? null,
    source: r.extras.source ?? null,
    tags: r.extras.tags ?? [],
    metadata: { ...(r.extras.metadata ?? {}), qcschema: { keywords: r.keywords, provenance: r.provenance ?? null } },
  };
}
