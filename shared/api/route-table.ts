// The shape of the route registry: what each function answers, per method and path, written once
// beside the contract's zod schemas. The OpenAPI document is generated from it (openapi-document.ts),
// each function serves its own part (supabase/functions/_shared/openapi.ts), and the tests check it
// against the routes the Hono apps register. A new function adds one file under routes/ and one
// line in all-functions.ts.
import type { z } from 'zod';
import { ErrorBody } from '../contract/common.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A schema with the name it takes among the document's components, as a one-key object: `{ Batch }`. */
export type Named = Record<string, z.ZodType>;

/** A body that is not JSON (an export stream, a kept file): its media types and headers. */
export interface MediaBody {
  description: string;
  media: string[];
  /** Response headers worth naming, with what they mean. */
  headers?: Record<string, string>;
}

/**
 * Who may call: `caller` is a user's token (its own rows) or the service-role key acting for the
 * user named by `user_id` (query on GET and DELETE, body on POST and PATCH), or across users with
 * `all_users: true` where the route takes it; the anon key is refused. `token` is any valid token,
 * the anon key included. `none` needs no token.
 */
export type Auth = 'caller' | 'token' | 'none';

export interface RouteSpec {
  /** Unique across the document; the name client generators give the method. */
  operationId: string;
  method: HttpMethod;
  /** The path as Hono mounts it under the function: `/`, `/:id/items`. A `:param` is a UUID unless `pathParams` says otherwise. */
  path: string;
  /** Path parameters that are not UUIDs (a release's `:version`), by name: their schema as text is parsed. */
  pathParams?: Record<string, z.ZodType>;
  summary: string;
  description?: string;
  /** The query string's schema (parsed from text: its input side is documented). */
  query?: z.ZodObject;
  /** The JSON body as clients send it (its input side). */
  body?: Named;
  /** The body may be left out (a user token's cancel and retry). */
  bodyOptional?: boolean;
  /** Answers other than errors: a JSON schema's output side, or a non-JSON body. */
  responses: Record<number, Named | MediaBody>;
  /**
   * Error statuses particular to this route (404, 409, 413). Those every route of its kind answers
   * are added by the generator: 400 for bad parameters, 404 for a path naming a row by id, 401/403
   * for tokens, 413/415/422 for bodies, 500 and 503.
   */
  errors?: number[];
  /** Defaults to the function's. */
  auth?: Auth;
}

export interface FunctionApi {
  /** The function's folder under supabase/functions, and its first path segment. */
  name: string;
  description: string;
  auth: Auth;
  routes: RouteSpec[];
  /**
   * Schemas the routes' schemas share, given a name so the document refers to them ($ref) instead
   * of repeating them: `{ Batch, BatchItem }`. A name here is the same schema everywhere it is used.
   */
  components?: Named;
}

/** What `route()` takes beside the method, path, operationId and summary. */
export type RouteParts = Omit<RouteSpec, 'operationId' | 'method' | 'path' | 'summary' | 'responses'> & {
  /** The answer of a 200: a JSON schema (`{ MoleculePage }`) or a stream. */
  ok?: Named | MediaBody;
  /** The JSON answer of a 201: the route creates something. */
  created?: Named;
  /** Any other answer: a non-JSON body, a 304, a 503 with a body. */
  responses?: RouteSpec['responses'];
};

/**
 * One registry entry, written as a reader scans a route list: `'GET /molecules/:id'`, the
 * operationId, the summary, then what it takes and answers.
 */
export function route(at: `${HttpMethod} /${string}`, operationId: string, summary: string, parts: RouteParts): RouteSpec {
  const space = at.indexOf(' ');
  const { ok, created, responses = {}, ...rest } = parts;
  const answers: RouteSpec['responses'] = {};
  if (ok) answers[200] = ok;
  if (created) answers[201] = created;
  return { operationId, method: at.slice(0, space) as HttpMethod, path: at.slice(space + 1), summary, ...rest, responses: { ...answers, ...responses } };
}

/** The route every function serves with its own document (served by _shared/openapi.ts). */
export const OPENAPI_PATH = '/openapi.json';

export const isMediaBody = (r: Named | MediaBody): r is MediaBody =>
  Array.isArray((r as MediaBody).media) && typeof (r as MediaBody).description === 'string';

/** `/:id/items` under `batches` → `/batches/{id}/items`; `/` → `/batches`. */
export function openApiPath(fn: string, path: string): string {
  const rest = path === '/' ? '' : path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
  return `/${fn}${rest}`;
}

/** `/:id/items` under `batches` → `/batches/:id/items`, as Hono lists it in `app.routes`. */
export function honoPath(fn: string, path: string): string {
  return path === '/' ? `/${fn}` : `/${fn}${path}`;
}

/** The one name and schema of a Named. */
export function unname(named: Named): [string, z.ZodType] {
  const entries = Object.entries(named);
  if (entries.length !== 1) throw new Error(`a named schema has exactly one key, not ${entries.length}`);
  return entries[0];
}

export type Side = 'input' | 'output';

/**
 * Every schema the registry names, with the side it is documented by: request bodies by their
 * input, answers by their output (docs/api.md's examples are checked against these by name).
 */
export function namedSchemas(functions: readonly FunctionApi[]): Map<string, { schema: z.ZodType; side: Side }> {
  const out = new Map<string, { schema: z.ZodType; side: Side }>([['ErrorBody', { schema: ErrorBody, side: 'output' }]]);
  const put = (named: Named, side: Side) => {
    const [name, schema] = unname(named);
    const seen = out.get(name);
    if (seen && seen.schema !== schema) throw new Error(`two different schemas are named ${name}`);
    out.set(name, { schema, side });
  };
  for (const fn of functions) {
    for (const route of fn.routes) {
      if (route.body) put(route.body, 'input');
      for (const answer of Object.values(route.responses)) if (!isMediaBody(answer)) put(answer, 'output');
    }
  }
  return out;
}
