// A request's input, read the same way on every route: the UUID path parameter, the query string,
// the JSON body, and the cursor. Each failure is an error naming the parameter or field: 400
// invalid_parameter for the path and the query, 422 invalid_payload for bodies. Parsing a query or
// a body also settles the request's owner from its user_id / all_users (caller.ts), so a handler
// reads: parse, run, answer.
import { z } from 'zod';
import { Uuid } from '../../../shared/contract/common.ts';
import { settleOwner, type OwnerSource, type RequestContext } from './caller.ts';
import type { CursorCodec } from './cursor.ts';
import { badRequest } from './errors.ts';
import { parseOr, readJsonBody } from './validate.ts';

/** Bodies of the runner routes and batch actions are small: ids and a message at most. */
export const SMALL_BODY_BYTES = 256 * 1024;

/** A path parameter that must be a UUID: anything else is a 400 naming it, never a 404 or 500. */
export function uuidParam(c: RequestContext, name = 'id'): string {
  const value = c.req.param(name) ?? '';
  if (!Uuid.safeParse(value).success) {
    throw badRequest(`invalid path parameter ${name}: must be a UUID`, [{ path: name, issue: 'must be a UUID' }]);
  }
  return value.toLowerCase();
}

/** A path parameter that must be a release number (1, 2, …): anything else is a 400 naming it. */
export function versionParam(c: RequestContext, name = 'version'): number {
  const text = c.req.param(name) ?? '';
  const n = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n)) {
    throw badRequest(`invalid path parameter ${name}: must be a release number (1, 2, …)`, [{ path: name, issue: 'must be a positive integer' }]);
  }
  return n;
}

type OwnerFields = { user_id?: string; all_users?: boolean };

const takesAllUsers = (schema: z.ZodType) => schema instanceof z.ZodObject && 'all_users' in schema.shape;

function owned<T>(c: RequestContext, schema: z.ZodType, value: T, from: OwnerSource): T {
  settleOwner(c, value as OwnerFields, from, takesAllUsers(schema));
  return value;
}

/**
 * The query string by the route's schema (shared/contract): unknown and repeated parameters are
 * refused by name, then zod converts and checks the values. Settles the owner.
 */
export function parseQuery<S extends z.ZodObject>(c: RequestContext, schema: S): z.output<S> {
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
  return owned(c, schema, parseOr(schema, values, 'query'), 'query');
}

/** An already-read JSON body by the route's schema (422 naming each field). Settles the owner. */
export function parseBodyValue<S extends z.ZodType>(c: RequestContext, schema: S, raw: unknown): z.output<S> {
  return owned(c, schema, parseOr(schema, raw, 'body'), 'body');
}

/**
 * Reads the JSON body (415, 413 and 400 as readJsonBody says) and parses it. With `optional`, a
 * request without a body reads as `{}` (cancel and retry need none from a user token).
 */
export async function parseBody<S extends z.ZodType>(
  c: RequestContext,
  schema: S,
  maxBytes: number,
  opts: { optional?: boolean } = {},
): Promise<z.output<S>> {
  const empty = c.req.raw.body === null || c.req.header('content-length') === '0';
  const raw = opts.optional && empty ? {} : await readJsonBody(c, maxBytes);
  return parseBodyValue(c, schema, raw);
}

/** The `cursor` query parameter decoded by its route's codec; undefined when there is none. */
export function cursorParam<P>(codec: CursorCodec<P>, text: string | undefined): P | undefined {
  return text === undefined ? undefined : codec.decode(text);
}
