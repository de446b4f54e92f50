// The query contract: the parameters of GET /functions/v1/query/... as they travel in the URL
// (strings, validated and converted here, so a bad one is a 400 naming it) and the JSON they answer.
// The server parses with these schemas; the typed client (shared/client-query.ts) writes the same
// parameters from their parsed types, so both sides read one definition.
import { z } from 'zod';
import { atomicNumber } from '../chem/elements.ts';
import { normaliseFormulaQuery } from '../chem/formula-query.ts';
import { Metadata, Method, METHODS, Task, TASKS, Uuid, Vec3 } from './common.ts';
import { CALCULATION_STATUSES } from './ingest.ts';

// ---------------------------------------------------------------------------------------------
// Scalar parameters (URL strings in, typed values out)

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;
/** A date (midnight UTC) or a date-time with its offset: `2026-11-26`, `2026-11-26T10:00:00Z`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

export const NumberParam = z.string().trim()
  .regex(NUMBER, 'must be a number')
  .transform(Number)
  .refine(Number.isFinite, 'must be a finite number');

export const IntParam = (min: number, max: number) => z.string().trim()
  .regex(INTEGER, 'must be an integer')
  .transform(Number)
  .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

export const BoolParam = z.enum(['true', 'false', '1', '0'], 'must be true or false')
  .transform((v) => v === 'true' || v === '1');

export const TimeParam = z.string().trim()
  .refine((s) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)),
    'must be an ISO 8601 date or date-time with offset, e.g. 2026-11-26 or 2026-11-26T10:00:00Z')
  .transform((s) => (s.length === 10 ? `${s}T00:00:00Z` : s));

export const InchikeyParam = z.string().trim().toUpperCase()
  .regex(/^[A-Z]{14}-[A-Z]{10}-[A-Z]$/, 'must be an InChIKey (14-10-1 letters)');

/** Any case and order (`c2h6o`, `OC2H6`), matched as the stored Hill formula (shared/chem/formula-query.ts). */
export const FormulaParam = z.string().trim().max(200).transform((s, ctx) => {
  const q = normaliseFormulaQuery(s);
  if ('issue' in q) {
    ctx.addIssue({ code: 'custom', message: q.issue });
    return z.NEVER;
  }
  return q.formula;
});

/** `C,N,O`: every element must be present (any order, duplicates ignored). */
export const ElementsParam = z.string().trim()
  .transform((s) => [...new Set(s.split(',').map((e) => e.trim()).filter(Boolean))])
  .refine((list) => list.length > 0, 'name at least one element, e.g. C,N,O')
  .refine((list) => list.every((e) => atomicNumber(e) !== undefined), 'must be element symbols separated by commas, e.g. C,N,O');

export const TagParam = z.string().trim().min(1, 'must not be empty').max(100);
export const SmilesParam = z.string().trim().min(1, 'must not be empty').max(2000);
/** zod 4: a default is an output value and skips parsing. */
export const LimitParam = (max: number, fallback: number) => IntParam(1, max).default(fallback);

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_BINS = 1000;
export const DEFAULT_BINS = 20;
/**
 * Most calculations one export response holds, with or without `limit`; the rest follows by the
 * X-Next-Cursor header's cursor. A hosted function gets 2 s of CPU per request and an export costs
 * the function about 1 s per 40,000 calculations (bench:cpu), so 50,000 keeps a response inside it.
 */
export const MAX_EXPORT_LIMIT = 50_000;

/** Header of an export response that stopped before the end: the cursor that continues after its last row. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

// ---------------------------------------------------------------------------------------------
// Calculations: filters shared by /calculations and /export

export const SORT_KEYS = ['created_at', 'energy', 'gap', 'dipole'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];

const range = <T extends Record<string, unknown>>(value: T, ctx: z.RefinementCtx, min: keyof T & string, max: keyof T & string) => {
  const lo = value[min];
  const hi = value[max];
  if (lo === undefined || hi === undefined) return;
  const a = typeof lo === 'string' ? Date.parse(lo) : (lo as number);
  const b = typeof hi === 'string' ? Date.parse(hi) : (hi as number);
  if (a > b) ctx.addIssue({ code: 'custom', path: [min], message: `must not be greater than ${max}` });
};

const filterShape = {
  /** Total energy range, Eh (inclusive). */
  energy_min: NumberParam.optional(),
  energy_max: NumberParam.optional(),
  /** HOMO-LUMO gap range, eV (inclusive). */
  gap_min: NumberParam.optional(),
  gap_max: NumberParam.optional(),
  /** Dipole moment range, Debye (inclusive). */
  dipole_min: NumberParam.optional(),
  dipole_max: NumberParam.optional(),
  method: z.enum(METHODS).optional(),
  task: z.enum(TASKS).optional(),
  /** A solvent name, or `gas` for the gas phase (no solvent). */
  solvent: z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9_,-]{0,63}$/, 'must be a solvent name or gas').optional(),
  status: z.enum(CALCULATION_STATUSES).optional(),
  molecule_id: Uuid.optional(),
  inchikey: InchikeyParam.optional(),
  /** Any SMILES of the molecule: canonicalised by RDKit on the server, so `OCC` finds ethanol. */
  smiles: SmilesParam.optional(),
  formula: FormulaParam.optional(),
  elements: ElementsParam.optional(),
  n_atoms_min: IntParam(0, 1_000_000).optional(),
  n_atoms_max: IntParam(0, 1_000_000).optional(),
  /** Calculations that answer the items of this batch job (every item's linked calculation, duplicate or not). */
  batch_id: Uuid.optional(),
  /** xtb's version as stored, e.g. `6.5.1`. */
  xtb_version: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  /** The SHA-256 of a specification (a calculation's `specification_hash`). */
  spec: z.string().trim().toLowerCase().regex(/^[0-9a-f]{64}$/, 'must be a specification hash (64 hex digits)').optional(),
  /** true: only the first calculation of each structure (those not marked same_structure_as another). */
  unique_structures: BoolParam.optional(),
  tag: TagParam.optional(),
  /** created_at range: `created_after` inclusive, `created_before` exclusive. */
  created_after: TimeParam.optional(),
  created_before: TimeParam.optional(),
  /** With the service-role key: the user whose rows to read (required then). */
  user_id: Uuid.optional(),
};

type FilterValues = { [K in keyof typeof filterShape]: z.output<(typeof filterShape)[K]> };

function checkRanges(v: Partial<FilterValues>, ctx: z.RefinementCtx) {
  range(v, ctx, 'energy_min', 'energy_max');
  range(v, ctx, 'gap_min', 'gap_max');
  range(v, ctx, 'dipole_min', 'dipole_max');
  range(v, ctx, 'n_atoms_min', 'n_atoms_max');
  range(v, ctx, 'created_after', 'created_before');
}

export const CalculationFilters = z.object(filterShape).strict().superRefine(checkRanges);
export type CalculationFilters = z.output<typeof CalculationFilters>;

const pagingShape = {
  sort: z.enum(SORT_KEYS, `must be one of ${SORT_KEYS.join(', ')}`).optional(),
  order: z.enum(ORDERS, 'must be asc or desc').optional(),
  /** The `next_cursor` of the previous page; it carries the sort and order it was made with. */
  cursor: z.string().trim().min(1).max(2000).optional(),
};

export const ListCalculationsQuery = z.object({
  ...filterShape,
  ...pagingShape,
  limit: LimitParam(MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT),
}).strict().superRefine(checkRanges);
export type ListCalculationsQuery = z.output<typeof ListCalculationsQuery>;

export const EXPORT_FORMATS = ['extxyz', 'ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Writer profiles: `mace` writes extxyz for MACE's training defaults (REF_ keys, total_charge, total_spin). */
export const EXPORT_PROFILES = ['mace'] as const;
export type ExportProfile = (typeof EXPORT_PROFILES)[number];

export const ExportQuery = z.object({
  ...filterShape,
  ...pagingShape,
  format: z.enum(EXPORT_FORMATS, `must be one of ${EXPORT_FORMATS.join(', ')}`),
  /** extxyz only: write REF_energy / REF_forces / REF_charges (MACE and other trainers). */
  ref_keys: BoolParam.default(false),
  /** extxyz only: `mace` also writes total_charge= and total_spin= (the multiplicity) for charge= and multiplicity=. */
  profile: z.enum(EXPORT_PROFILES, `must be ${EXPORT_PROFILES.join(', ')}`).optional(),
  /** Most calculations in this response (at most, and by default, EXPORT_PART_ROWS); the rest follows with the X-Next-Cursor header's cursor. */
  limit: IntParam(1, MAX_EXPORT_LIMIT).optional(),
}).strict().superRefine(checkRanges);
export type ExportQuery = z.output<typeof ExportQuery>;

export const GetByIdQuery = z.object({ user_id: Uuid.optional() }).strict();

// ---------------------------------------------------------------------------------------------
// Molecules, stats, events

export const ListMoleculesQuery = z.object({
  inchikey: InchikeyParam.optional(),
  smiles: SmilesParam.optional(),
  formula: FormulaParam.optional(),
  /** Case-insensitive substring of the molecule's name. */
  name: z.string().trim().min(1, 'must not be empty').max(500).optional(),
  tag: TagParam.optional(),
  cursor: pagingShape.cursor,
  limit: LimitParam(MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT),
  user_id: Uuid.optional(),
}).strict();
export type ListMoleculesQuery = z.output<typeof ListMoleculesQuery>;

export const StatsQuery = z.object({
  bins: IntParam(1, MAX_BINS).default(DEFAULT_BINS),
  user_id: Uuid.optional(),
}).strict();
export type StatsQuery = z.output<typeof StatsQuery>;

export const EVENT_TYPES = [
  'calculation_started', 'calculation_completed', 'calculation_failed', 'calculation_deleted',
  'batch_created', 'batch_started', 'batch_completed', 'batch_failed', 'batch_cancelled', 'batch_deleted',
  'batch_item_created', 'batch_item_updated', 'batch_item_deleted',
  'molecule_created', 'molecule_deleted', 'error', 'performance_metric',
  'dataset_created', 'release_created', 'release_withdrawn',
] as const;
export const ENTITY_TYPES = ['molecule', 'calculation', 'batch_job', 'batch_item', 'function', 'dataset', 'release'] as const;

export const ListEventsQuery = z.object({
  event_type: z.enum(EVENT_TYPES, `must be one of ${EVENT_TYPES.join(', ')}`).optional(),
  entity_type: z.enum(ENTITY_TYPES, `must be one of ${ENTITY_TYPES.join(', ')}`).optional(),
  entity_id: Uuid.optional(),
  /** created_at range: `created_after` inclusive, `created_before` exclusive. */
  created_after: TimeParam.optional(),
  created_before: TimeParam.optional(),
  /** Newest first by default. */
  order: z.enum(ORDERS, 'must be asc or desc').optional(),
  cursor: pagingShape.cursor,
  limit: LimitParam(MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT),
  user_id: Uuid.optional(),
}).strict().superRefine((v, ctx) => range(v, ctx, 'created_after', 'created_before'));
export type ListEventsQuery = z.output<typeof ListEventsQuery>;

// ---------------------------------------------------------------------------------------------
// Responses. Times are ISO 8601 strings in UTC with microseconds, as stored.

/** One page of a keyset listing. */
export const pageOf = <T extends z.ZodType>(row: T) => z.object({
  data: z.array(row),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: z.string().nullable(),
});
export type Page<T> = z.output<ReturnType<typeof pageOf<z.ZodType<T>>>>;

const Int = z.number().int();
const Time = z.string();

export const CalculationRow = z.object({
  id: Uuid,
  molecule_id: Uuid,
  canonical_smiles: z.string(),
  inchikey: z.string(),
  formula: z.string(),
  n_atoms: Int,
  molecule_name: z.string().nullable(),
  batch_item_id: Uuid.nullable(),
  method: Method,
  task: Task,
  solvent: z.string().nullable(),
  charge: Int,
  multiplicity: Int,
  status: z.enum(CALCULATION_STATUSES),
  total_energy_eh: z.number().nullable(),
  homo_lumo_gap_ev: z.number().nullable(),
  dipole_debye: z.number().nullable(),
  dipole_au: Vec3.nullable(),
  converged: z.boolean().nullable(),
  gradient_norm_eh_bohr: z.number().nullable(),
  wall_time_s: z.number().nullable(),
  xtb_version: z.string().nullable(),
  geometry_sha256: z.string().nullable(),
  /** SHA-256 of the calculation's specification (`spec=` filter); the specification itself is in the detail. */
  specification_hash: z.string(),
  /** The first stored calculation with the same structure, specification, molecule, charge and multiplicity. */
  same_structure_as: Uuid.nullable(),
  source: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: Metadata,
  error_message: z.string().nullable(),
  started_at: Time.nullable(),
  completed_at: Time.nullable(),
  created_at: Time,
  updated_at: Time,
});
export type CalculationRow = z.output<typeof CalculationRow>;
export const CalculationPage = pageOf(CalculationRow);

export const AtomRow = z.object({
  atom_index: Int,
  element: z.string(),
  atomic_number: Int,
  /** Position, Å. */
  xyz_ang: Vec3,
  partial_charge_e: z.number().nullable(),
  /** Energy gradient, Eh/Bohr (forces are its negative). */
  gradient_eh_bohr: Vec3.nullable(),
});
export type AtomRow = z.output<typeof AtomRow>;

/** How a calculation was made (public.calculation_provenance); null for rows stored without it. */
export const ProvenanceRow = z.object({
  command: z.string().nullable(),
  xtb_version: z.string().nullable(),
  parser_version: z.string().nullable(),
  files: z.array(z.object({ name: z.string(), role: z.enum(['input', 'output']), sha256: z.string(), bytes: Int })),
  input_xyz: z.string().nullable(),
  /** Present when xtb.out was kept; GET /calculations/:id/xtb.out returns it. */
  raw_output_sha256: z.string().nullable(),
  raw_output_bytes: z.number().nullable(),
});
export type ProvenanceRow = z.output<typeof ProvenanceRow>;

export const CalculationDetail = CalculationRow.extend({
  /** The normalised specification (docs/specifications.md). */
  specification: z.record(z.string(), z.unknown()),
  provenance: ProvenanceRow.nullable(),
  /** In atom order; empty for a calculation stored without atoms (running, or failed without results). */
  atoms: z.array(AtomRow),
});
export type CalculationDetail = z.output<typeof CalculationDetail>;

export const MoleculeRow = z.object({
  id: Uuid,
  canonical_smiles: z.string(),
  inchikey: z.string(),
  formula: z.string(),
  name: z.string().nullable(),
  input_smiles: z.string(),
  n_atoms: Int,
  tags: z.array(z.string()),
  metadata: Metadata,
  created_at: Time,
  updated_at: Time,
});
export type MoleculeRow = z.output<typeof MoleculeRow>;
export const MoleculePage = pageOf(MoleculeRow);

/** Most calculations listed inline by GET /molecules/:id; the rest are paged by /calculations. */
export const MOLECULE_CALCULATIONS_INLINE = 1000;

export const MoleculeDetail = MoleculeRow.extend({
  /** Oldest first, at most MOLECULE_CALCULATIONS_INLINE. */
  calculations: z.array(CalculationRow),
  /** Continues the list with GET /calculations?molecule_id=<id>&cursor=…; null when all are listed. */
  calculations_next_cursor: z.string().nullable(),
});
export type MoleculeDetail = z.output<typeof MoleculeDetail>;

export const Histogram = z.object({
  /** What is counted, with its unit. */
  quantity: z.string(),
  bins: Int,
  /** Values counted (calculations with the quantity). */
  count: Int,
  /**
   * The lower edge of the lowest occupied cell and the upper edge of the highest: the values lie
   * within, to the cell width (1e-4 Eh per atom, 0.01 eV; the database keeps counts per cell).
   */
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** bins + 1 edges on the cell grid, each bin whole cells; bin i holds the cells from edges[i] to edges[i+1]. */
  edges: z.array(z.number()),
  counts: z.array(Int),
});
export type Histogram = z.output<typeof Histogram>;

/** The caller's counters (public.database_stats). */
export const DatabaseStats = z.object({
  molecules: Int,
  calculations_total: Int,
  calculations_pending: Int,
  calculations_running: Int,
  calculations_completed: Int,
  calculations_failed: Int,
  calculations_gfn2_xtb: Int,
  calculations_gfn1_xtb: Int,
  calculations_gfn0_xtb: Int,
  calculations_gfn_ff: Int,
  atoms: Int,
  batches_total: Int,
  batches_pending: Int,
  batches_running: Int,
  batches_completed: Int,
  batches_failed: Int,
  batches_cancelled: Int,
  events_last_24h: Int,
});
export type DatabaseStats = z.output<typeof DatabaseStats>;
/** The names of the counters, in the order above. */
export const STAT_NAMES = DatabaseStats.keyof().options;

export const StatsResponse = z.object({
  stats: DatabaseStats,
  histograms: z.object({
    /** total_energy_eh / n_atoms of completed calculations. */
    energy_per_atom_eh: Histogram,
    homo_lumo_gap_ev: Histogram,
  }),
});
export type StatsResponse = z.output<typeof StatsResponse>;

export const EventRow = z.object({
  id: Int,
  event_type: z.enum(EVENT_TYPES),
  entity_type: z.enum(ENTITY_TYPES),
  entity_id: Uuid.nullable(),
  payload: Metadata,
  /**
   * Who acted: `role` (authenticated or service_role), `sub` (a user's own token), `acting_for`
   * (the service-role key acting for a user), `key` (sha256: and 16 hex digits of the presented
   * token); `{"role": "database"}` for maintenance by the database owner; `{}` before actors
   * were recorded.
   */
  actor: z.object({ role: z.string().optional(), sub: z.string().optional(), acting_for: z.string().optional(), key: z.string().optional() }).catchall(z.unknown()),
  created_at: Time,
});
export type EventRow = z.output<typeof EventRow>;
export const EventPage = pageOf(EventRow);

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  extxyz: 'chemical/x-extxyz; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

/** Columns of the CSV export, in order (one calculation per row, no atoms). */
export const CSV_COLUMNS = [
  'id', 'molecule_id', 'inchikey', 'canonical_smiles', 'formula', 'n_atoms', 'method', 'task', 'solvent',
  'charge', 'multiplicity', 'status', 'total_energy_eh', 'homo_lumo_gap_ev', 'dipole_debye',
  'dipole_x_au', 'dipole_y_au', 'dipole_z_au', 'converged', 'gradient_norm_eh_bohr', 'wall_time_s',
  'xtb_version', 'batch_item_id', 'source', 'tags', 'created_at', 'completed_at',
  'specification_hash', 'same_structure_as',
] as const;
