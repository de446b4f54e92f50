// The query function's routes: reading molecules, calculations, stats and events, and exports.
import {
  AtomRow, CalculationDetail, CalculationPage, CalculationRow, DatabaseStats, EventPage, EventRow, EXPORT_CONTENT_TYPES,
  ExportQuery, GetByIdQuery, Histogram, ListCalculationsQuery, ListEventsQuery, ListMoleculesQuery, MoleculeDetail,
  MoleculePage, MoleculeRow, NEXT_CURSOR_HEADER, ProvenanceRow, StatsQuery, StatsResponse,
} from '../../contract/query.ts';
import { route, type FunctionApi } from '../route-table.ts';

export const queryApi: FunctionApi = {
  name: 'query',
  description: 'How clients read their data, under row-level security: molecules, calculations, stats, events and exports.',
  auth: 'caller',
  components: { CalculationRow, MoleculeRow, AtomRow, ProvenanceRow, Histogram, DatabaseStats, EventRow },
  routes: [
    route('GET /molecules', 'listMolecules', 'Molecules, filtered and keyset-paged', { query: ListMoleculesQuery, ok: { MoleculePage } }),
    route('GET /molecules/:id', 'getMolecule', 'One molecule with its calculations (oldest first, the first 1000)', {
      query: GetByIdQuery, ok: { MoleculeDetail },
    }),
    route('GET /calculations', 'listCalculations', 'Calculations, filtered, sorted and keyset-paged', {
      query: ListCalculationsQuery, ok: { CalculationPage },
    }),
    route('GET /calculations/:id', 'getCalculation', 'One calculation with its specification, provenance and atoms', {
      query: GetByIdQuery, ok: { CalculationDetail },
    }),
    route('GET /calculations/:id/xtb.out', 'getRawOutput', "The calculation's kept xtb.out", {
      query: GetByIdQuery,
      ok: {
        description: 'xtb.out as stored: gzip bytes sent with content-encoding: gzip',
        media: ['text/plain; charset=utf-8'],
        headers: { 'x-content-sha256': 'SHA-256 of the uncompressed file', 'x-content-bytes': 'size of the uncompressed file' },
      },
    }),
    route('GET /stats', 'getStats', "The caller's counters and histograms of energy per atom and of the gap", {
      query: StatsQuery, ok: { StatsResponse },
    }),
    route('GET /events', 'listEvents', 'The event log, filtered and keyset-paged (newest first by default)', {
      query: ListEventsQuery, ok: { EventPage },
    }),
    route('GET /export', 'export', 'Calculations matching the /calculations filters, streamed as extxyz, ndjson or csv', {
      query: ExportQuery, errors: [429],
      ok: {
        description: 'The export stream, in the format asked for',
        media: Object.values(EXPORT_CONTENT_TYPES),
        headers: { [NEXT_CURSOR_HEADER]: 'with `limit`: the cursor that continues after the last row (absent on the last page)' },
      },
    }),
  ],
};
