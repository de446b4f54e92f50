// The ingest function's routes: storing results, and correcting or removing them.
import {
  BulkDeleteBody, BulkDeleteResponse, DeleteCalculationResponse, DeleteMoleculeResponse, PatchCalculationBody,
  PatchCalculationResponse, PatchMoleculeBody, PatchMoleculeResponse,
} from '../../contract/manage.ts';
import { DeleteEntityQuery } from '../../contract/manage-delete.ts';
import { IngestCalculation, IngestItemResult, IngestRequestFull, IngestResponse, Results } from '../../contract/ingest.ts';
import { QcSchemaAtomicResult } from '../../contract/qcschema.ts';
import { Provenance } from '../../contract/provenance.ts';
import { MoleculeRow } from '../../contract/query.ts';
import { route, type FunctionApi } from '../route-table.ts';

export const ingestApi: FunctionApi = {
  name: 'ingest',
  description: 'How every result enters the database, and the one place results are corrected or removed.',
  auth: 'caller',
  components: { IngestCalculation, QcSchemaAtomicResult, Results, Provenance, IngestItemResult, MoleculeRow },
  routes: [
    route('POST /', 'ingest', 'Store 1 to INGEST_MAX_ITEMS calculations (native items or QCSchema AtomicResults)', {
      description: 'Each item is validated on its own and gets its own outcome; the valid ones are stored in one transaction. 200 also when some items are rejected.',
      body: { IngestRequest: IngestRequestFull }, ok: { IngestResponse },
    }),
    route('PATCH /molecules/:id', 'patchMolecule', "Edit a molecule's name, tags and metadata (merged); identity fields are refused", {
      body: { PatchMoleculeBody }, ok: { PatchMoleculeResponse },
    }),
    route('DELETE /molecules/:id', 'deleteMolecule', 'Delete a molecule, its calculations and atoms', {
      description: '409 while a pending or claimed batch item needs it, unless force=true cancels those items first.',
      query: DeleteEntityQuery, ok: { DeleteMoleculeResponse }, errors: [409],
    }),
    route('PATCH /calculations/:id', 'patchCalculation', "Edit a calculation's tags and metadata (merged); results and identity are refused", {
      body: { PatchCalculationBody }, ok: { PatchCalculationResponse },
    }),
    route('DELETE /calculations/:id', 'deleteCalculation', 'Delete a calculation and its atoms', { query: DeleteEntityQuery, ok: { DeleteCalculationResponse } }),
    route('POST /delete', 'bulkDelete', 'Delete calculations by any /query/calculations filter and/or source (a dry run by default)', {
      body: { BulkDeleteBody }, ok: { BulkDeleteResponse },
    }),
  ],
};
