// zod runs IngestCalculation's cross-field refinement even when fields failed their own schemas, so
// the refinement must read a malformed item without throwing: the item is then rejected naming its
// fields, not answered "internal error".
import { describe, expect, it } from 'vitest';
import { IngestCalculation } from '../../shared/contract/ingest.ts';

const WATER = [{ element: 'O', xyz: [0, 0, 0] }, { element: 'H', xyz: [0, 0, 1] }, { element: 'H', xyz: [0, 1, 0] }];
const BASE = { molecule: { smiles: 'O' }, method: 'GFN2-xTB', task: 'sp', charge: 0, multiplicity: 1, status: 'failed', error_message: 'x', geometry: WATER };
const { geometry: _, ...NO_GEOMETRY } = BASE;

// Each is valid but for one field, so that zod reaches the refinement.
const MALFORMED: unknown[] = [
  NO_GEOMETRY,
  { ...BASE, geometry: 'x' },
  { ...BASE, final_geometry: [null, null, null] },
  { ...BASE, final_geometry: 'x' },
  { ...BASE, charges: 'x' },
  { ...BASE, gradient: 3 },
  { ...BASE, xtb_args: 'x' },
];

describe('IngestCalculation on malformed items', () => {
  it.each(MALFORMED.map((m) => [JSON.stringify(m), m]))('%s: refused with named fields, no exception', (_, item) => {
    const parsed = IngestCalculation.safeParse(item);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues.length).toBeGreaterThan(0);
  });
});
