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
import type { FunctionApi } from '../route-table.ts';

export const ingestApi: FunctionApi = {
  name: 'ingest',
  description: 'How every result enters the database, and the one place results are corrected or removed.',
  auth: 'caller',
  components: { IngestCalculation, QcSchemaAtomicResult, Results, Provenance, IngestItemResult, MoleculeRow },
  routes: [
    {
      operationId: 'ingest', method: 'POST', path: '/',
      summary: 'Store 1 to INGEST_MAX_ITEMS calculations (native items or QCSchema AtomicResults)',
      description: 'Each item is validated on its own and gets its own outcome; the valid ones are stored in one transaction. 200 also when some items are rejected.',
      body: { IngestRequest: IngestRequestFull },
      responses: { 200: { IngestResponse } },
    },
    {
      operationId: 'patchMolecule', method: 'PATCH', path: '/molecules/:id',
      summary: "Edit a molecule's name, tags and metadata (merged); identity fields are refused",
      body: { PatchMoleculeBody },
      responses: { 200: { PatchMoleculeResponse } },
      errors: [404],
    },
    {
      operationId: 'deleteMolecule', method: 'DELETE', path: '/molecules/:id',
      summary: 'Delete a molecule, its calculations and atoms',
      description: '409 while a pending or claimed batch item needs it, unless force=true cancels those items first.',
      query: DeleteEntityQuery,
      responses: { 200: { DeleteMoleculeResponse } },
      errors: [404, 409],
    },
    {
      operationId: 'patchCalculation', method: 'PATCH', path: '/calculations/:id',
      summary: "Edit a calculation's tags and metadata (merged); results and identity are refused",
      body: { PatchCalculationBody },
      responses: { 200: { PatchCalculationResponse } },
      errors: [404],
    },
    {
      operationId: 'deleteCalculation', method: 'DELETE', path: '/calculations/:id',
      summary: 'Delete a calculation and its atoms',
      query: DeleteEntityQuery,
      responses: { 200: { DeleteCalculationResponse } },
      errors: [404],
    },
    {
      operationId: 'bulkDelete', method: 'POST', path: '/delete',
      summary: 'Delete calculations by any /query/calculations filter and/or source (a dry run by default)',
      body: { BulkDeleteBody },
      responses: { 200: { BulkDeleteResponse } },
    },
  ],
};
