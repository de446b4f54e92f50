// What keeps docs/api.md from drifting from the contract: every JSON example is marked with the
// schema it shows (`<!-- example: CreateBatchRequest -->` on the line before its ```json fence)
// and is valid by that schema, both the zod schema itself and its JSON Schema in docs/openapi.json;
// and every query parameter and body field a route accepts is named in the text. Pure functions
// of the markdown, so the test can show each check failing on a doctored copy.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { namedSchemas, unname, type FunctionApi } from '../../shared/api/route-table.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const BASE = 'https://quantum-forge.local/openapi.json';
const MARKER = /^<!--\s*example:\s*([A-Za-z0-9_]+)\s*-->$/;

export interface Example {
  line: number;
  schema: string | undefined;
  text: string;
}

/** Every ```json block, with the schema its marker names (undefined when unmarked). */
export function jsonExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```json') continue;
    let end = i + 1;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marker = before >= 0 ? MARKER.exec(lines[before].trim()) : null;
    out.push({ line: i + 1, schema: marker?.[1], text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

/** Each example that is unmarked, not JSON, or not valid by its schema (zod and JSON Schema). */
export function exampleProblems(markdown: string, functions: readonly FunctionApi[], openapi: { components: unknown }): string[] {
  const schemas = namedSchemas(functions);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: BASE, components: openapi.components });
  const problems: string[] = [];
  for (const ex of jsonExamples(markdown)) {
    const at = `docs/api.md:${ex.line}`;
    if (!ex.schema) {
      problems.push(`${at}: a json example without <!-- example: SchemaName --> before it`);
      continue;
    }
    const named = schemas.get(ex.schema);
    if (!named) {
      problems.push(`${at}: no schema named ${ex.schema} (one of ${[...schemas.keys()].join(', ')})`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(ex.text);
    } catch (err) {
      problems.push(`${at}: not JSON: ${(err as Error).message}`);
      continue;
    }
    const parsed = named.schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${at} ${ex.schema}: ${issue.path.join('.') || '(value)'}: ${issue.message}`);
    }
    const validate = ajv.getSchema(`${BASE}#/components/schemas/${ex.schema}`);
    if (!validate) problems.push(`${at}: ${ex.schema} is not a component of docs/openapi.json`);
    else if (!validate(value)) {
      for (const e of validate.errors ?? []) problems.push(`${at} ${ex.schema}: ${e.instancePath || '(value)'} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
  return problems;
}

/**
 * The names the text gives: inline code split into words (`a_min/max` names a_min and a_max,
 * `created_after/before` both), and the keys of the JSON examples.
 */
export function namesIn(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const [, code] of markdown.matchAll(/`([^`\n]+)`/g)) {
    for (const word of code.split(/[^A-Za-z0-9_/]+/)) {
      const pair = /^(.*_)([a-z0-9]+)\/([a-z0-9]+)$/.exec(word);
      if (pair) names.add(pair[1] + pair[2]).add(pair[1] + pair[3]);
      else for (const part of word.split('/')) names.add(part);
    }
  }
  for (const [, key] of markdown.matchAll(/"([A-Za-z0-9_]+)"\s*:/g)) names.add(key);
  return names;
}

type JsonObject = { properties?: Record<string, JsonObject>; items?: JsonObject; type?: string };

/** Query parameters, body fields, and the fields of a body's list items (items, calculations). */
function accepted(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  const names: string[] = [];
  for (const [name, prop] of Object.entries(json.properties ?? {})) {
    names.push(name);
    names.push(...Object.keys(prop.items?.properties ?? {}));
  }
  return names;
}

/** `GET /query/export: format` for each parameter or field a route takes that the text never names. */
export function undocumentedParameters(markdown: string, functions: readonly FunctionApi[]): string[] {
  const names = namesIn(markdown);
  const missing: string[] = [];
  for (const fn of functions) {
    for (const route of fn.routes) {
      const taken = [...(route.query ? accepted(route.query) : []), ...(route.body ? accepted(unname(route.body)[1]) : [])];
      for (const name of new Set(taken)) if (!names.has(name)) missing.push(`${route.method} /${fn.name}${route.path === '/' ? '' : route.path}: ${name}`);
    }
  }
  return missing;
}
