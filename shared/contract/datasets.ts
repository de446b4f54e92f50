// The datasets contract: named datasets and their frozen, versioned releases (docs/releases.md).
// Requests and responses of /functions/v1/datasets/...; the server parses with these schemas and
// the typed client (shared/client-datasets.ts) is typed from them.
import { z } from 'zod';
import { Uuid } from './common.ts';
import { CalculationFilters, EXPORT_FORMATS, EXPORT_PROFILES, IntParam, MAX_EXPORT_LIMIT, pageOf } from './query.ts';

export const DatasetName = z.string().trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit');

export const CreateDatasetBody = z.object({
  /** Required with the service-role key: whose dataset. */
  user_id: Uuid.optional(),
  name: DatasetName,
  description: z.string().max(10_000).default(''),
}).strict();
export type CreateDatasetBody = z.input<typeof CreateDatasetBody>;

export const OwnerQuery = z.object({ user_id: Uuid.optional() }).strict();
export type OwnerQuery = z.input<typeof OwnerQuery>;

export const RELEASE_STATUSES = ['published', 'withdrawn'] as const;
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export const ReleaseSummary = z.object({
  id: Uuid,
  version: z.number().int(),
  status: z.enum(RELEASE_STATUSES),
  content_sha256: z.string(),
  calculations: z.number().int(),
  created_at: z.string(),
  withdrawn_reason: z.string().nullable(),
});
export type ReleaseSummary = z.output<typeof ReleaseSummary>;

export const Dataset = z.object({
  id: Uuid,
  name: z.string(),
  description: z.string(),
  created_at: z.string(),
  releases: z.array(ReleaseSummary),
});
export type Dataset = z.output<typeof Dataset>;

/** Every listing answers `{data, next_cursor}`; a user's datasets come in one page (next_cursor null). */
export const ListDatasetsResponse = pageOf(Dataset);
export type ListDatasetsResponse = z.output<typeof ListDatasetsResponse>;

/** The /query/calculations filters, sent as JSON: numbers may be numbers or strings. */
const FilterValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

/** An SPDX licence id or expression: `CC-BY-4.0`, `MIT`, `Apache-2.0 OR MIT`. */
export const SpdxLicense = z.string().trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+-]{0,99}){0,9}$/,
    'must be an SPDX licence id or expression, e.g. CC-BY-4.0');

export const SplitRequest = z.object({
  /** Any text; the same seed gives the same split. */
  seed: z.string().min(1).max(200),
  /** Fractions of molecules (by InChIKey), adding up to 1. */
  fractions: z.object({
    train: z.number().min(0).max(1),
    validation: z.number().min(0).max(1),
    test: z.number().min(0).max(1),
  }).strict().refine((f) => Math.abs(f.train + f.validation + f.test - 1) < 1e-9, 'train + validation + test must be 1'),
}).strict();

/** Most explicit ids in one request (a filter selects any number). */
export const MAX_RELEASE_IDS = 100_000;

export const CreateReleaseBody = z.object({
  user_id: Uuid.optional(),
  description: z.string().max(10_000).default(''),
  license: SpdxLicense,
  authors: z.array(z.string().trim().min(1).max(500)).min(1).max(100),
  doi: z.string().trim().regex(/^10\.[0-9]{4,9}\/\S{1,200}$/, 'must be a DOI such as 10.5281/zenodo.123').optional(),
  citation: z.string().trim().min(1).max(4000).optional(),
  /** Any /query/calculations filter; with calculation_ids, the union of both. */
  filters: FilterValues.optional().pipe(CalculationFilters.optional()),
  calculation_ids: z.array(Uuid).max(MAX_RELEASE_IDS).optional(),
  split: SplitRequest.optional(),
  /**
   * Refuse (409, naming each missing atom) unless the caller has a reference atom energy (E0) for
   * every element under every specification the release holds (docs/releases.md).
   */
  reference_energies: z.boolean().default(false),
}).strict().refine((b) => b.filters !== undefined || b.calculation_ids !== undefined,
  { message: 'give filters, calculation_ids or both', path: ['filters'] });
export type CreateReleaseBody = z.input<typeof CreateReleaseBody>;

const Range = z.object({ min: z.number().nullable(), max: z.number().nullable() });
const SplitCounts = z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() });

/** What the database computed when the release was made (migration release_functions, seal_release). */
export const Manifest = z.object({
  dataset: z.object({ id: Uuid, name: z.string() }),
  release_id: Uuid,
  version: z.number().int(),
  created_at: z.string(),
  status: z.enum(RELEASE_STATUSES),
  withdrawn: z.object({ reason: z.string(), at: z.string() }).optional(),
  description: z.string(),
  license: z.string(),
  authors: z.array(z.string()),
  doi: z.string().nullable(),
  citation: z.string().nullable(),
  /** The request's filters and ids, for the record. */
  selection: z.record(z.string(), z.unknown()),
  /** SHA-256 and size of the canonical ndjson export (all members, no split). */
  content: z.object({ format: z.literal('ndjson'), sha256: z.string(), bytes: z.number().int() }),
  counts: z.object({ calculations: z.number().int(), molecules: z.number().int(), atoms: z.number().int() }),
  /** Atoms per element. */
  elements: z.record(z.string(), z.number().int()),
  methods: z.array(z.string()),
  specifications: z.array(z.object({ hash: z.string(), spec: z.record(z.string(), z.unknown()), calculations: z.number().int() })),
  xtb_versions: z.array(z.string()),
  energy_eh: Range,
  homo_lumo_gap_ev: Range,
  /**
   * Isolated-atom energies (E0) per specification (hash) and element, copied from the caller's
   * one-atom calculations when the release was made, and the pairs that had none then.
   */
  reference_energies: z.object({
    atoms: z.array(z.object({
      specification: z.string(), element: z.string(), multiplicity: z.number().int(), energy_eh: z.number(), calculation_id: Uuid,
    })),
    missing: z.array(z.object({
      specification: z.string(), spec: z.record(z.string(), z.unknown()), element: z.string(),
      /** null: no ground-state rule for this element (transition metals and heavier). */
      multiplicity: z.number().int().nullable(),
    })),
  }),
  splits: z.object({
    by: z.literal('inchikey'),
    seed: z.string(),
    fractions: z.object({ train: z.number(), validation: z.number(), test: z.number() }),
    calculations: SplitCounts,
    molecules: SplitCounts,
  }).nullable(),
});
export type Manifest = z.output<typeof Manifest>;

export const ReleaseResponse = z.object({ release: ReleaseSummary, manifest: Manifest });
export type ReleaseResponse = z.output<typeof ReleaseResponse>;

/**
 * 202 from making a release whose content hash needs more parts than one request hashes
 * (RELEASE_PART_ROWS members each): the release is `sealing`, listed nowhere and not exportable
 * until POST `next` has hashed the rest; the last part answers 201 with ReleaseResponse.
 * The typed client (shared/client-datasets.ts) follows `next` itself.
 */
export const ReleaseSealing = z.object({
  release: z.object({ id: Uuid, version: z.number().int(), status: z.literal('sealing') }),
  sealing: z.object({
    /** Members of the release. */
    members: z.number().int(),
    /** Members hashed so far (ordinals 1..hashed), and their ndjson bytes. */
    hashed: z.number().int(),
    bytes: z.number().int(),
    /** The function path to POST for the next part: `datasets/<id>/releases/<version>/seal`. */
    next: z.string(),
  }),
});
export type ReleaseSealing = z.output<typeof ReleaseSealing>;

/** The continuation's body: only whose release, for the service-role key. */
export const SealReleaseBody = z.object({ user_id: Uuid.optional() }).strict();
export type SealReleaseBody = z.input<typeof SealReleaseBody>;

export const ExportReleaseQuery = z.object({
  user_id: Uuid.optional(),
  format: z.enum(EXPORT_FORMATS, `must be one of ${EXPORT_FORMATS.join(', ')}`),
  /** Only the members of this split (releases made with `split`). */
  split: z.enum(SPLITS, `must be one of ${SPLITS.join(', ')}`).optional(),
  /** extxyz only: `mace` writes REF_energy, REF_forces, REF_charges, total_charge and total_spin. */
  profile: z.enum(EXPORT_PROFILES, `must be ${EXPORT_PROFILES.join(', ')}`).optional(),
  /** Most members in this response; X-Next-Cursor continues after the last. */
  limit: IntParam(1, MAX_EXPORT_LIMIT).optional(),
  /** The X-Next-Cursor of the previous part. */
  cursor: z.string().trim().min(1).max(2000).optional(),
}).strict();
export type ExportReleaseQuery = z.output<typeof ExportReleaseQuery>;
