// The body of PATCH /ingest/molecules/:id and /ingest/calculations/:id: names, tags and metadata
// only. Identity and results are refused with 422 by name before the schema is applied, so a
// correction can never rewrite what was computed and the client learns which field to drop.
import type { z } from 'zod';
import type { RequestContext } from '../_shared/caller.ts';
import { unprocessable } from '../_shared/errors.ts';
import { parseBodyValue } from '../_shared/params.ts';
import { readJsonBody } from '../_shared/validate.ts';

const MAX_PATCH_BYTES = 1024 * 1024;

export async function parsePatchBody<S extends z.ZodType>(
  c: RequestContext, schema: S, locked: readonly string[], what: string,
): Promise<z.output<S>> {
  const raw = await readJsonBody(c, MAX_PATCH_BYTES);
  const hits = raw && typeof raw === 'object' ? locked.filter((k) => k in raw) : [];
  if (hits.length) {
    throw unprocessable(`${hits.join(', ')}: ${what} cannot be edited; ingest the corrected data instead`,
      hits.map((path) => ({ path, issue: `${what} cannot be edited` })));
  }
  return parseBodyValue(c, schema, raw);
}
