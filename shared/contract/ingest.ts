// The ingest contract: one calculation as a runner, the uploader or a user's script reports it.
import { z } from 'zod';
import {
  ErrorDetail, Finite, FiniteArray, Geometry, Int32, Metadata, Method, MAX_SMILES_LENGTH, Solvent, Tags, Task, Uuid, Vec3, Vec3Array,
  unstorableText,
} from './common.ts';
import { QcSchemaAtomicResult } from './qcschema.ts';
import { Provenance } from './provenance.ts';
import { xtbArgsConflicts } from '../xtb/xtb-args.ts';

export const CALCULATION_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export const IngestStatus = z.enum(['running', 'completed', 'failed']);

export const MoleculeInput = z.object({
  /** The SMILES as the user typed it; the server canonicalises it with RDKit. */
  smiles: z.string().trim().min(1).max(MAX_SMILES_LENGTH, `at most ${MAX_SMILES_LENGTH} characters`),
  name: z.string().max(500).nullish(),
});

export const Results = z.object({
  total_energy_eh: Finite,
  homo_lumo_gap_ev: Finite.min(0).nullish(),
  dipole_debye: Finite.min(0).nullish(),
  /** Dipole vector in atomic units (e·Bohr). */
  dipole_au: Vec3.nullish(),
  converged: z.boolean().nullish(),
  gradient_norm_eh_bohr: Finite.min(0).nullish(),
  wall_time_s: Finite.min(0).nullish(),
  xtb_version: z.string().max(100).nullish(),
});
export type Results = z.output<typeof Results>;

export const IngestCalculation = z.object({
  molecule: MoleculeInput,
  charge: Int32.default(0),
  multiplicity: Int32.min(1).default(1),
  method: Method,
  task: Task,
  solvent: Solvent.default(null),
  status: IngestStatus,
  /** The input geometry in Ångström; its canonical hash is part of the calculation's identity. */
  geometry: Geometry,
  results: Results.nullish(),
  /** Final geometry for `opt`, in Ångström, in the order of `geometry`. */
  final_geometry: Geometry.nullish(),
  /** Per-atom partial charges (e), in atom order. */
  charges: FiniteArray.nullish(),
  /** Per-atom gradient (Eh/Bohr), in atom order. */
  gradient: Vec3Array.nullish(),
  error_message: z.string().max(10_000).nullish(),
  /**
   * The words of the xtb command line the run used (or just its settings, e.g. `["--etemp", "5000"]`).
   * The specification, part of the identity, is derived from them with method, task and solvent
   * (docs/specifications.md); without them the run is taken to have used xtb's defaults. Words that
   * contradict method, task, charge, multiplicity or solvent are refused.
   */
  xtb_args: z.array(z.string().min(1).max(200)).max(64).nullish(),
  /** How the result was made: command line, versions, file hashes, optionally xtb.out. */
  provenance: Provenance.nullish(),
  batch_item_id: Uuid.nullish(),
  source: z.string().max(1000).nullish(),
  tags: Tags.default([]),
  metadata: Metadata.default({}),
  started_at: z.iso.datetime({ offset: true }).nullish(),
  completed_at: z.iso.datetime({ offset: true }).nullish(),
}).superRefine((c, ctx) => {
  // The per-atom arrays hold only element symbols and finite numbers (their schemas say so): skip them.
  const { geometry: _g, final_geometry: _f, charges: _q, gradient: _d, ...texts } = c;
  const text = unstorableText(texts);
  if (text) ctx.addIssue({ code: 'custom', path: text.path, message: text.issue });
  // zod runs this refinement even when a field failed its own schema: the issues already say why.
  if (!Array.isArray(c.geometry)) return;
  const n = c.geometry.length;
  if (c.status === 'completed' && !c.results) {
    ctx.addIssue({ code: 'custom', path: ['results'], message: 'a completed calculation needs results' });
  }
  if (c.status === 'failed' && !c.error_message) {
    ctx.addIssue({ code: 'custom', path: ['error_message'], message: 'a failed calculation needs error_message' });
  }
  if (Array.isArray(c.final_geometry)) {
    if (c.final_geometry.length !== n) {
      ctx.addIssue({ code: 'custom', path: ['final_geometry'], message: `has ${c.final_geometry.length} atoms, geometry has ${n}` });
    } else {
      c.final_geometry.forEach((a, i) => {
        if (a?.element !== c.geometry[i]?.element) {
          ctx.addIssue({ code: 'custom', path: ['final_geometry', i, 'element'], message: `is ${a?.element}, geometry has ${c.geometry[i]?.element}` });
        }
      });
    }
  }
  if (Array.isArray(c.charges) && c.charges.length !== n) {
    ctx.addIssue({ code: 'custom', path: ['charges'], message: `has ${c.charges.length} values for ${n} atoms` });
  }
  if (Array.isArray(c.gradient) && c.gradient.length !== n) {
    ctx.addIssue({ code: 'custom', path: ['gradient'], message: `has ${c.gradient.length} rows for ${n} atoms` });
  }
  for (const conflict of xtbArgsConflicts(Array.isArray(c.xtb_args) ? c.xtb_args : [], c)) {
    ctx.addIssue({ code: 'custom', path: ['xtb_args', conflict.index], message: conflict.issue });
  }
});
export type IngestCalculationInput = z.input<typeof IngestCalculation>;
export type IngestCalculation = z.output<typeof IngestCalculation>;

// ---------------------------------------------------------------------------------------------
// The request and the response of POST /functions/v1/ingest.

// The limits of one request, measured against the platform's 2 s of CPU per request with
// `npm run bench:cpu` (bench/RESULTS.md). Reading the JSON costs ~30 ms per MB; checking and storing
// a calculation ~20 µs per atom; identifying a new molecule ~3 ms, within RDKIT_BUDGET_MS.
export const INGEST_DEFAULT_MAX_ITEMS = 1000;
/** Largest body (413 beyond). Was 25 MB, which took longer to read than to check. */
export const INGEST_DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/**
 * Atoms (geometry lengths) checked and stored per request: items beyond answer `deferred`, and the
 * typed client splits its requests under this too.
 */
export const INGEST_DEFAULT_MAX_ATOMS = 30_000;

/** One calculation as a client may send it: the native item or a QCSchema AtomicResult. */
export const IngestItem = z.union([IngestCalculation, QcSchemaAtomicResult]);
export type IngestItem = z.input<typeof IngestItem>;

/**
 * The envelope the server parses first: items are validated one by one (each may be native or
 * QCSchema, and each gets its own outcome), so it keeps them opaque. IngestRequestFull is the
 * request as clients send it, with each item's schema; the type IngestRequest is its input.
 */
export const IngestRequest = z.object({
  /** Required with the service-role key: the user the rows belong to. Refused for user tokens. */
  user_id: Uuid.optional(),
  calculations: z.array(z.unknown()).min(1, 'send at least one calculation'),
});
export const IngestRequestFull = IngestRequest.extend({ calculations: z.array(IngestItem).min(1) });
export type IngestRequest = z.input<typeof IngestRequestFull>;

/**
 * `deferred`: not checked to the end because the request spent its RDKit budget on other new
 * molecules (errors say so); nothing was stored for it. Send it again: the typed client does.
 */
export const INGEST_OUTCOMES = ['created', 'duplicate', 'updated', 'rejected', 'deferred'] as const;

export const IngestItemResult = z.object({
  index: z.number().int(),
  outcome: z.enum(INGEST_OUTCOMES),
  calculation_id: Uuid.nullable(),
  molecule_id: Uuid.nullable(),
  /** SHA-256 of the stored calculation's specification (the `spec=` filter). */
  specification_hash: z.string().nullish(),
  /** The first stored calculation with the same structure and specification, if this is not it. */
  same_structure_as: Uuid.nullish(),
  errors: z.array(ErrorDetail).optional(),
});
export type IngestItemResult = z.output<typeof IngestItemResult>;

export const IngestResponse = z.object({
  results: z.array(IngestItemResult),
  counts: z.record(z.enum(INGEST_OUTCOMES), z.number().int()),
  atoms_written: z.number().int(),
  ms: z.number(),
});
export type IngestResponse = z.output<typeof IngestResponse>;
