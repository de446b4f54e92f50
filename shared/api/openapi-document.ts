// The OpenAPI 3.1 document, generated from the route registry (route-table.ts) and the contract's
// zod schemas with zod's own JSON Schema output (draft 2020-12, the dialect of OpenAPI 3.1): never
// written by hand. Requests are documented by their input side (what a client sends: the query's
// text, a body before defaults and transforms), responses by their output side (what the server
// answers). Refinements that JSON Schema cannot express (cross-field rules, RDKit checks) are the
// server's, reported in the one error shape.
import { z } from 'zod';
import { ErrorBody, ErrorDetail, Geometry, GeometryAtom, Metadata, Uuid, Vec3 } from '../contract/common.ts';
import {
  honoPath, isMediaBody, OPENAPI_PATH, openApiPath, unname, type Auth, type FunctionApi, type Named, type RouteSpec,
} from './route-table.ts';

export const API_TITLE = 'Quantum Forge Data API';
/** The contract's version; bumped with breaking changes once released. */
export const API_VERSION = '0.1.0';

type Json = Record<string, unknown>;
type Mode = 'input' | 'output';

/** What each error status means here (docs/api.md, "Errors"); every one has the body ErrorBody. */
const ERROR_MEANINGS: Record<number, string> = {
  400: 'invalid_json or invalid_parameter: malformed or empty JSON, or a bad path or query parameter (named in details)',
  401: 'unauthorized: no token, a bad or expired token, or the anon key where a user is needed',
  403: 'forbidden: a valid token that may not do this (a user token naming another user_id, or all_users)',
  404: 'not_found: no such row, or one that is not the caller\'s',
  409: 'conflict: the request conflicts with stored state',
  413: 'payload_too_large: the body or its item count is over the limit',
  415: 'unsupported_media_type: the body is not application/json',
  422: 'invalid_payload or unprocessable_entity: a well-formed body that fails validation (each field named in details)',
  429: 'quota_exceeded: a per-user limit (open exports); retry after the Retry-After header\'s seconds',
  500: 'internal_error: a bug',
  503: 'database_unavailable, database_busy, identification_budget or auth_unavailable: retry the same request',
  504: 'query_timeout: the statement ran past its time limit; narrow the query (not worth retrying as is)',
};

const SUCCESS_MEANINGS: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted: more to do', 503: 'The database is unreachable' };

const SECURITY_SCHEME = 'bearer';

/** The contract's building blocks, named wherever they appear. */
const BUILDING_BLOCKS: Named = { Uuid, Vec3, Metadata, Geometry, GeometryAtom, ErrorBody, ErrorDetail };

/** The statuses a route can answer with the error shape: its own, and those of its kind. */
function errorStatuses(route: RouteSpec, fnAuth: Auth): number[] {
  const auth = route.auth ?? fnAuth;
  const codes = new Set<number>(route.errors ?? []);
  // Every route with a token runs SQL: a statement past DB_STATEMENT_TIMEOUT_MS is a 504.
  if (auth !== 'none') codes.add(401).add(500).add(503).add(504);
  if (auth === 'caller') codes.add(403);
  if (route.query || route.path.includes(':') || route.body) codes.add(400);
  // A path parameter names a row: one the caller cannot see is a 404, on every such route.
  if (route.path.includes(':')) codes.add(404);
  if (route.body) codes.add(413).add(415).add(422);
  for (const status of Object.keys(route.responses)) codes.delete(Number(status));
  return [...codes].sort((a, b) => a - b);
}

/** The route every function adds for its own document. */
function openApiRoute(fn: FunctionApi): RouteSpec {
  return {
    operationId: `${fn.name}OpenApi`, method: 'GET', path: OPENAPI_PATH, auth: 'none',
    summary: `This document, for the ${fn.name} function's routes (no token needed)`,
    responses: { 200: { description: 'An OpenAPI 3.1 document', media: ['application/json'] } },
  };
}

/** Every route of a function, its document's route included. */
function routesOf(fn: FunctionApi): RouteSpec[] {
  return [...fn.routes, openApiRoute(fn)];
}

/** Each method and path as the function's Hono app registers it, e.g. `GET /batches/:id`. */
export function registeredRoutes(fn: FunctionApi): string[] {
  return routesOf(fn).map((r) => `${r.method} ${honoPath(fn.name, r.path)}`);
}

const COMPONENTS = '#/components/schemas/';
/** Where a component of one side is referred to before its final name is known. */
const placeholder = (mode: Mode, name: string) => `${COMPONENTS}${mode}:${name}`;

/**
 * The document's named schemas. Routes name their bodies and answers; functions name what those
 * share (`components`), and the contract's building blocks are named here. Each side (requests:
 * input, answers: output) is converted with zod's registry, so a named schema inside another
 * becomes a $ref. Only what a side reaches is kept; a schema both sides reach and see alike is
 * one component, otherwise the request side's is named `<Name>Input`.
 */
class Components {
  private readonly names = new Map<z.ZodType, string>();
  private readonly schemas = new Map<string, z.ZodType>();
  private readonly roots = { input: new Set<string>(), output: new Set<string>() };

  constructor(shared: Named[]) {
    for (const named of shared) for (const [name, schema] of Object.entries(named)) this.add(name, schema);
  }

  /** The schema's name: the first one it was given, so one schema is one component. */
  add(name: string, schema: z.ZodType): string {
    const known = this.names.get(schema);
    if (known) return known;
    if (this.schemas.has(name)) throw new Error(`two different schemas are named ${name}`);
    this.names.set(schema, name);
    this.schemas.set(name, schema);
    return name;
  }

  ref(named: Named, mode: Mode): Json {
    const name = this.add(...unname(named));
    this.roots[mode].add(name);
    return { $ref: placeholder(mode, name) };
  }

  /** The components, and the final name of each placeholder. */
  build(): { schemas: Json; rename: Map<string, string> } {
    const sides = { input: this.side('input'), output: this.side('output') };
    // Shared by both sides when the request side's JSON equals the answer side's, refs included.
    const shared = new Set([...sides.input.keys()].filter((n) => sides.output.has(n)));
    const same = (name: string) =>
      JSON.stringify(sides.input.get(name)).replaceAll(`"${COMPONENTS}input:`, `"${COMPONENTS}output:`) === JSON.stringify(sides.output.get(name));
    for (let changed = true; changed;) {
      changed = false;
      for (const name of shared) {
        const refsDiffer = [...refsIn(sides.input.get(name))].some((r) => sides.output.has(r) && !shared.has(r));
        if (refsDiffer || !same(name)) {
          shared.delete(name);
          changed = true;
        }
      }
    }
    const rename = new Map<string, string>();
    const schemas: Record<string, Json> = {};
    for (const [name, json] of sides.output) {
      rename.set(placeholder('output', name), `${COMPONENTS}${name}`);
      schemas[name] = json;
    }
    for (const [name, json] of sides.input) {
      const final = !sides.output.has(name) || shared.has(name) ? name : `${name}Input`;
      rename.set(placeholder('input', name), `${COMPONENTS}${final}`);
      schemas[final] ??= json;
    }
    const sorted = Object.fromEntries(Object.keys(schemas).sort().map((k) => [k, renameRefs(schemas[k], rename)]));
    return { schemas: sorted, rename };
  }

  /** One side's schemas that its roots reach. */
  private side(mode: Mode): Map<string, Json> {
    const registry = z.registry<{ id: string }>();
    for (const [name, schema] of this.schemas) registry.add(schema, { id: name });
    const all = z.toJSONSchema(registry, { io: mode, unrepresentable: 'any', uri: (id) => placeholder(mode, id) }).schemas;
    const out = new Map<string, Json>();
    const visit = (name: string) => {
      if (out.has(name)) return;
      const { $schema: _s, $id: _i, ...json } = all[name] as Json;
      out.set(name, json);
      for (const ref of refsIn(json)) visit(ref);
    };
    for (const root of this.roots[mode]) visit(root);
    return out;
  }
}

/** The component names a schema refers to (placeholders of either side). */
function refsIn(json: unknown): Set<string> {
  const found = new Set<string>();
  const text = JSON.stringify(json);
  for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/(?:input|output):([^"]+)"/g)) found.add(m[1]);
  return found;
}

function renameRefs<T>(json: T, rename: Map<string, string>): T {
  return JSON.parse(JSON.stringify(json, (key, value) => (key === '$ref' && rename.has(value) ? rename.get(value) : value)));
}

function jsonSchema(schema: z.ZodType, mode: Mode): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: mode, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const own = route.pathParams?.[name];
    out.push({ name, in: 'path', required: true, schema: own ? jsonSchema(own, 'input') : { type: 'string', format: 'uuid' } });
  }
  if (route.query) {
    const query = jsonSchema(route.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      // A default is a parsed value (zod 4 skips parsing it), which zod leaves out of a text
      // parameter's input side; on the wire it is text like the rest.
      const field = route.query.shape[name];
      const fallback = field instanceof z.ZodDefault ? field.def.defaultValue : undefined;
      const wire = fallback === undefined || schema.type !== 'string' ? schema : { ...schema, default: String(fallback) };
      out.push({ name, in: 'query', required: (query.required ?? []).includes(name), schema: wire });
    }
  }
  return out;
}

function operation(fn: FunctionApi, route: RouteSpec, components: Components): Json {
  const auth = route.auth ?? fn.auth;
  const responses: Json = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    if (isMediaBody(answer)) {
      responses[status] = {
        description: answer.description,
        ...(answer.headers && {
          headers: Object.fromEntries(Object.entries(answer.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])),
        }),
        ...(answer.media.length && { content: Object.fromEntries(answer.media.map((m) => [m, { schema: { type: 'string' } }])) }),
      };
    } else {
      responses[status] = {
        description: SUCCESS_MEANINGS[Number(status)] ?? 'OK',
        content: { 'application/json': { schema: components.ref(answer, 'output') } },
      };
    }
  }
  for (const status of errorStatuses(route, fn.auth)) {
    responses[status] = {
      description: ERROR_MEANINGS[status] ?? 'an error',
      content: { 'application/json': { schema: components.ref({ ErrorBody }, 'output') } },
    };
  }
  const params = parameters(route);
  return {
    operationId: route.operationId,
    tags: [fn.name],
    summary: route.summary,
    ...(route.description && { description: route.description }),
    security: auth === 'none' ? [] : [{ [SECURITY_SCHEME]: [] }],
    ...(params.length && { parameters: params }),
    ...(route.body && {
      requestBody: {
        required: !route.bodyOptional,
        content: { 'application/json': { schema: components.ref(route.body, 'input') } },
      },
    }),
    responses,
  };
}

/** The document for the given functions: one function's (served by it) or all (docs/openapi.json). */
export function openApiDocument(functions: readonly FunctionApi[]): Json {
  const components = new Components([BUILDING_BLOCKS, ...functions.map((fn) => fn.components ?? {})]);
  const paths: Record<string, Json> = {};
  const ids = new Set<string>();
  for (const fn of functions) {
    for (const route of routesOf(fn)) {
      if (ids.has(route.operationId)) throw new Error(`operationId ${route.operationId} is used twice`);
      ids.add(route.operationId);
      const path = openApiPath(fn.name, route.path);
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(fn, route, components) };
    }
  }
  const { schemas, rename } = components.build();
  return renameRefs({
    openapi: '3.1.0',
    info: {
      title: API_TITLE,
      version: API_VERSION,
      description: 'Generated from the zod contract in shared/contract/ and the route registry in shared/api/ (npm run openapi). '
        + 'Every error has one shape, ErrorBody: {"error": {"code", "message", "details": [{"path", "issue"}]}}.',
    },
    servers: [
      { url: 'http://127.0.0.1:54321/functions/v1', description: 'the local stack (npm start)' },
      {
        url: 'https://{project_ref}.supabase.co/functions/v1',
        description: 'a hosted Supabase project',
        variables: { project_ref: { default: 'your-project-ref' } },
      },
    ],
    tags: functions.map((fn) => ({ name: fn.name, description: fn.description })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A user\'s access token (Supabase Auth): the request works on that user\'s rows. Or the service-role key, '
            + 'which acts for the user named by user_id (a query parameter on GET and DELETE, a body field on POST and PATCH), '
            + 'or across users with all_users: true where a route takes it. The anon key is refused except by health.',
        },
      },
    },
  }, rename);
}
