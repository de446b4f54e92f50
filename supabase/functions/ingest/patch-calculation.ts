// PATCH /ingest/calculations/:id: a calculation's tags and metadata (merged); results and identity
// are refused (patch-body.ts).
import { CALCULATION_LOCKED_FIELDS, PatchCalculationBody } from '../../../shared/contract/manage.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { uuidParam } from '../_shared/params.ts';
import { parsePatchBody } from './patch-body.ts';

export async function patchCalculation(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const body = await parsePatchBody(c, PatchCalculationBody, CALCULATION_LOCKED_FIELDS, 'results and identity');
  const [row] = await c.var.db((tx) => tx`
    update public.calculations
       set tags = coalesce(${body.tags ?? null}::text[], tags),
           metadata = metadata || ${tx.json((body.metadata ?? {}) as never)}::jsonb
     where id = ${id}
    returning id, molecule_id, method, task, solvent, status, tags, metadata, created_at, updated_at`);
  if (!row) throw notFound('calculation');
  return c.json(row);
}
