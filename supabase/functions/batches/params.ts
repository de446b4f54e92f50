// Path parameters and optional bodies of the batches routes.
import type { Context } from 'hono';
import { Uuid } from '../../../shared/contract/common.ts';
import { badRequest } from '../_shared/errors.ts';
import { readJsonBody } from '../_shared/validate.ts';

/** The `:id` of /batches/:id…, which must be a UUID (400 otherwise, before any query). */
export function batchIdParam(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!Uuid.safeParse(id).success) {
    throw badRequest(`id: ${JSON.stringify(id)} is not a batch id (a UUID)`, [{ path: 'id', issue: 'must be a UUID' }]);
  }
  return id.toLowerCase();
}

/** A JSON body that may be left out entirely (cancel, retry): no body reads as `{}`. */
export async function readOptionalJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const length = c.req.header('content-length');
  if (c.req.raw.body === null || length === '0') return {};
  return await readJsonBody(c, maxBytes);
}

/** Bodies of the runner routes and batch actions are small; ids and a message at most. */
export const SMALL_BODY_BYTES = 256 * 1024;
