// Correcting and removing data (routes on the ingest function, which owns every write to results):
// PATCH and DELETE of molecules and calculations, and the bulk delete by any /query filter.
import { z } from 'zod';
import { Metadata, Tags, Uuid, type QueryParams } from './common.ts';
import { CalculationFilters, CalculationRow, MoleculeRow } from './query.ts';

/** Fields that make a molecule what it is: never editable, re-ingest under the right SMILES instead. */
export const MOLECULE_IDENTITY_FIELDS = ['canonical_smiles', 'inchikey', 'molecule_key', 'formula', 'input_smiles', 'n_atoms'] as const;
/** Results and identity of a calculation: never editable, re-ingest instead. */
export const CALCULATION_LOCKED_FIELDS = [
  'molecule_id', 'method', 'task', 'solvent', 'charge', 'multiplicity', 'geometry_sha256', 'status',
  'total_energy_eh', 'homo_lumo_gap_ev', 'dipole_debye', 'dipole_au', 'converged', 'gradient_norm_eh_bohr',
  'wall_time_s', 'xtb_version', 'error_message',
] as const;

export const PatchMoleculeBody = z.object({
  user_id: Uuid.optional(),
  name: z.string().trim().max(500).nullable().optional(),
  tags: Tags.optional(),
  /** Merged into the stored metadata (top-level keys replace). */
  metadata: Metadata.optional(),
}).strict();
export type PatchMoleculeBody = z.input<typeof PatchMoleculeBody>;

export const PatchCalculationBody = z.object({
  user_id: Uuid.optional(),
  tags: Tags.optional(),
  metadata: Metadata.optional(),
}).strict();
export type PatchCalculationBody = z.input<typeof PatchCalculationBody>;

/** The answer to PATCH /ingest/molecules/:id: the molecule as it is now. */
export const PatchMoleculeResponse = MoleculeRow;
export type PatchMoleculeResponse = z.output<typeof PatchMoleculeResponse>;

/** The answer to PATCH /ingest/calculations/:id: what identifies the calculation, and what was edited. */
export const PatchCalculationResponse = CalculationRow.pick({
  id: true, molecule_id: true, method: true, task: true, solvent: true, status: true, tags: true, metadata: true,
  created_at: true, updated_at: true,
});
export type PatchCalculationResponse = z.output<typeof PatchCalculationResponse>;

/** The filters of /query/calculations, sent as JSON: numbers may be numbers or strings. */
const FilterValues = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

export const BulkDeleteBody = z.object({
  user_id: Uuid.optional(),
  filters: FilterValues.default({}).pipe(CalculationFilters),
  /** Only calculations from this source, e.g. `upload:2025-03` matches `upload:2025-03/…` when `source_prefix` is true. */
  source: z.string().min(1).max(1000).optional(),
  source_prefix: z.boolean().default(false),
  /** The default: report what would go, delete nothing. */
  dry_run: z.boolean().default(true),
  delete_orphan_molecules: z.boolean().default(false),
  /** Required when neither filters nor source narrow the selection. */
  confirm: z.literal('all').optional(),
  /** Withdraw the published releases that hold a selected calculation instead of answering 409. */
  force: z.boolean().default(false),
}).strict();
export type BulkDeleteBody = z.input<typeof BulkDeleteBody>;

export const DeleteCounts = z.object({
  calculations: z.number().int(),
  atoms: z.number().int(),
  molecules: z.number().int(),
});
export const BulkDeleteResponse = z.object({
  dry_run: z.boolean(),
  /** What goes (dry run: what would go). */
  deleted: DeleteCounts,
  /** Molecules left without calculations and kept (delete_orphan_molecules was false). */
  orphan_molecules_kept: z.number().int(),
});
export type BulkDeleteResponse = z.output<typeof BulkDeleteResponse>;

/** The query of DELETE /ingest/molecules/:id and /ingest/calculations/:id. */
export const DeleteEntityQuery = z.object({
  /** With the service-role key: whose row. */
  user_id: Uuid.optional(),
  /** Molecules only: cancel the live batch items that need it first, instead of answering 409. */
  force: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
}).strict();
export type DeleteEntityQuery = QueryParams<typeof DeleteEntityQuery>;

/** The answer to DELETE /ingest/calculations/:id. */
export const DeleteCalculationResponse = z.object({ deleted: DeleteCounts });
export type DeleteCalculationResponse = z.output<typeof DeleteCalculationResponse>;

export const DeleteMoleculeResponse = z.object({
  deleted: DeleteCounts,
  /** Live batch items that `force=true` cancelled first. */
  cancelled_batch_items: z.number().int(),
});
export type DeleteMoleculeResponse = z.output<typeof DeleteMoleculeResponse>;
