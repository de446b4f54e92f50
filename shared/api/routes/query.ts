// The query function's routes: reading molecules, calculations, stats and events, and exports.
import {
  AtomRow, CalculationDetail, CalculationPage, CalculationRow, DatabaseStats, EventPage, EventRow, EXPORT_CONTENT_TYPES,
  ExportQuery, GetByIdQuery, Histogram, ListCalculationsQuery, ListEventsQuery, ListMoleculesQuery, MoleculeDetail,
  MoleculePage, MoleculeRow, NEXT_CURSOR_HEADER, ProvenanceRow, StatsQuery, StatsResponse,
} from '../../contract/query.ts';
import type { FunctionApi } from '../route-table.ts';

export const queryApi: FunctionApi = {
  name: 'query',
  description: 'How clients read their data, under row-level security: molecules, calculations, stats, events and exports.',
  auth: 'caller',
  components: { CalculationRow, MoleculeRow, AtomRow, ProvenanceRow, Histogram, DatabaseStats, EventRow },
  routes: [
    {
      operationId: 'listMolecules', method: 'GET', path: '/molecules',
      summary: 'Molecules, filtered and keyset-paged',
      query: ListMoleculesQuery,
      responses: { 200: { MoleculePage } },
    },
    {
      operationId: 'getMolecule', method: 'GET', path: '/molecules/:id',
      summary: 'One molecule with its calculations (oldest first, the first 1000)',
      query: GetByIdQuery,
      responses: { 200: { MoleculeDetail } },
      errors: [404],
    },
    {
      operationId: 'listCalculations', method: 'GET', path: '/calculations',
      summary: 'Calculations, filtered, sorted and keyset-paged',
      query: ListCalculationsQuery,
      responses: { 200: { CalculationPage } },
    },
    {
      operationId: 'getCalculation', method: 'GET', path: '/calculations/:id',
      summary: 'One calculation with its specification, provenance and atoms',
      query: GetByIdQuery,
      responses: { 200: { CalculationDetail } },
      errors: [404],
    },
    {
      operationId: 'getRawOutput', method: 'GET', path: '/calculations/:id/xtb.out',
      summary: "The calculation's kept xtb.out",
      query: GetByIdQuery,
      responses: {
        200: {
          description: 'xtb.out as stored: gzip bytes sent with content-encoding: gzip',
          media: ['text/plain; charset=utf-8'],
          headers: {
            'x-content-sha256': 'SHA-256 of the uncompressed file',
            'x-content-bytes': 'size of the uncompressed file',
          },
        },
      },
      errors: [404],
    },
    {
      operationId: 'getStats', method: 'GET', path: '/stats',
      summary: "The caller's counters and histograms of energy per atom and of the gap",
      query: StatsQuery,
      responses: { 200: { StatsResponse } },
    },
    {
      operationId: 'listEvents', method: 'GET', path: '/events',
      summary: 'The event log, filtered and keyset-paged (newest first by default)',
      query: ListEventsQuery,
      responses: { 200: { EventPage } },
    },
    {
      operationId: 'export', method: 'GET', path: '/export',
      summary: 'Calculations matching the /calculations filters, streamed as extxyz, ndjson or csv',
      query: ExportQuery,
      responses: {
        200: {
          description: 'The export stream, in the format asked for',
          media: Object.values(EXPORT_CONTENT_TYPES),
          headers: { [NEXT_CURSOR_HEADER]: 'with `limit`: the cursor that continues after the last row (absent on the last page)' },
        },
      },
      errors: [429],
    },
  ],
};
