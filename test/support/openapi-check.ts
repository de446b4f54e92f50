// Checks a real answer against docs/openapi.json: the operation documents the status, the
// content type is one it names, and a JSON body is valid against the answer's schema (ajv, JSON
// Schema 2020-12, the dialect of OpenAPI 3.1, with the document's components for its $refs).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../scripts/openapi.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const BASE = 'https://quantum-forge.local/openapi.json';

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export function openApiChecker(doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: BASE, components: doc.components });

  /**
   * Problems with `answer` as the answer to `operation`, e.g. `GET /query/calculations/{id}` (the
   * document's path); an empty list when it is as documented.
   */
  return function problems(operation: string, answer: Answer): string[] {
    const [method, path] = operation.split(' ');
    const op = doc.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${operation} is not in the document`];
    const documented = op.responses[String(answer.status)];
    if (!documented) return [`${operation} does not document status ${answer.status}`];
    const type = (answer.headers.get('content-type') ?? '').split(';')[0].trim();
    const media = Object.keys(documented.content ?? {});
    const medium = media.find((m) => m.split(';')[0].trim() === type);
    if (!medium) return [`${operation} ${answer.status}: content-type ${type} is not one of ${media.join(', ')}`];
    const schema = documented.content[medium].schema;
    if (!schema.$ref) return [];
    const validate = ajv.getSchema(`${BASE}${schema.$ref}`);
    if (!validate) return [`${schema.$ref} does not resolve`];
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map((e) => `${operation} ${answer.status}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`);
  };
}
