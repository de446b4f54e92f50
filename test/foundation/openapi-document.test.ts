// docs/openapi.json: current (what `npm run openapi` generates now from shared/api and the zod
// contract), valid OpenAPI 3.1 by a real validator, and the same document each function serves at
// /functions/v1/<name>/openapi.json for its own routes, without a token.
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_FUNCTIONS } from '../../shared/api/all-functions.ts';
import { openApiDocument } from '../../shared/api/openapi-document.ts';
import { OPENAPI_FILE, openApiText } from '../../scripts/openapi.ts';
import { call } from '../support/http.ts';

const committed = readFileSync(OPENAPI_FILE, 'utf8');

async function validate(doc: unknown) {
  const validator = new Validator();
  const result = await validator.validate(doc as Parameters<Validator["validate"]>[0]);
  return { version: validator.version, ...result };
}

describe('docs/openapi.json', () => {
  it('is what the contract generates now (run `npm run openapi` and commit it when this fails)', () => {
    expect(committed === openApiText(), 'docs/openapi.json is stale: run `npm run openapi`').toBe(true);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(JSON.parse(committed));
    expect(result.errors ?? []).toEqual([]);
    expect(result).toMatchObject({ valid: true, version: '3.1' });
  });

  it('the validator refuses a broken copy (an answer without its description)', async () => {
    const broken = JSON.parse(committed);
    delete broken.paths['/query/stats'].get.responses['200'].description;
    expect((await validate(broken)).valid).toBe(false);
  });

  it('names the one error shape and the bearer scheme on every route but the documents', () => {
    const doc = JSON.parse(committed);
    expect(doc.components.schemas.ErrorBody.properties.error.required).toEqual(['code', 'message']);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const open = path.endsWith('/openapi.json');
        expect(op.security, `${method} ${path}`).toEqual(open ? [] : [{ bearer: [] }]);
        if (!open) expect(op.responses['401'].content['application/json'].schema.$ref, `${method} ${path}`).toBe('#/components/schemas/ErrorBody');
      }
    }
  });
});

describe('GET /functions/v1/<name>/openapi.json', () => {
  it.each(ALL_FUNCTIONS.map((fn) => [fn.name, fn] as const))('%s serves its own routes, without a token, valid', async (_name, fn) => {
    const res = await call(`${fn.name}/openapi.json`, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument([fn]))));
    expect(Object.keys(res.body.paths).every((p) => p === `/${fn.name}` || p.startsWith(`/${fn.name}/`))).toBe(true);
    expect((await validate(res.body)).valid).toBe(true);
  });
});
