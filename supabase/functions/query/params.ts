// Query-string parsing for every route: unknown and repeated parameters are refused by name, then
// the route's zod schema (shared/contract/query.ts) converts and checks the values (400 naming the
// parameter). Also the acting user: the service-role key must say whose rows it reads.
import type { Context } from 'hono';
import type { z } from 'zod';
import { Uuid } from '../../../shared/contract/common.ts';
import { badRequest } from '../_shared/errors.ts';
import { parseOr } from '../_shared/validate.ts';

export function parseQuery<S extends z.ZodObject>(schema: S, c: Context): z.output<S> {
  const known = Object.keys(schema.shape);
  const values: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (!known.includes(key)) {
      // `?=x` has a parameter with no name: say so, so that the error still names something.
      const path = key === '' ? '(unnamed parameter)' : key;
      throw badRequest(`unknown query parameter ${path}`, [{ path, issue: `unknown parameter; use ${known.join(', ')}` }]);
    }
    if (key in values) throw badRequest(`query parameter ${key} is given more than once`, [{ path: key, issue: 'given more than once' }]);
    values[key] = value;
  }
  return parseOr(schema, values, 'query');
}

/** A path parameter that must be a UUID: anything else is a 400 naming it, never a 404 or 500. */
export function uuidParam(c: Context, name = 'id'): string {
  const value = c.req.param(name) ?? '';
  if (!Uuid.safeParse(value).success) {
    throw badRequest(`invalid path parameter ${name}: must be a UUID`, [{ path: name, issue: 'must be a UUID' }]);
  }
  return value.toLowerCase();
}

