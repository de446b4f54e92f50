// Path and query parameters of the ingest function's management routes.
import type { Context } from 'hono';
import { z } from 'zod';
import { Uuid } from '../../../shared/contract/common.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseOr } from '../_shared/validate.ts';

const IdParam = z.object({ id: Uuid });
const OwnerQuery = z.object({
  user_id: Uuid.optional(),
  force: z.enum(['true', 'false']).optional(),
}).strict();

/** The `:id` of the route: a malformed one is a 400 naming `id`. */
export const routeId = (c: Context<AuthEnv>): string => parseOr(IdParam, { id: c.req.param('id') }, 'query').id;

/** `?user_id=` (service role) and `?force=` of DELETE routes. */
export function deleteQuery(c: Context<AuthEnv>): { actAs: string | undefined; force: boolean } {
  const q = parseOr(OwnerQuery, c.req.query(), 'query');
  return { actAs: resolveOwner(c.get('claims'), q.user_id, 'query'), force: q.force === 'true' };
}
