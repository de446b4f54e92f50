// docs/api.md cannot drift from the contract: its JSON examples are valid by the schemas they name,
// and every parameter and body field the routes accept is named in it (test/support/api-docs-check.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_FUNCTIONS } from '../../shared/api/all-functions.ts';
import { OPENAPI_FILE } from '../../scripts/openapi.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { call } from '../support/http.ts';
import { exampleProblems, jsonExamples, undocumentedParameters } from '../support/api-docs-check.ts';
import { newUser } from '../support/users.ts';

const markdown = readFileSync(repoPath('docs/api.md'), 'utf8');
const openapi = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));

describe('docs/api.md', () => {
  it('links the generated OpenAPI document', () => {
    expect(markdown).toMatch(/\]\(openapi\.json\)/);
  });

  it('has JSON examples, each marked with its schema and valid by it', () => {
    expect(jsonExamples(markdown).length).toBeGreaterThan(5);
    expect(exampleProblems(markdown, ALL_FUNCTIONS, openapi)).toEqual([]);
  });

  it('shows an ingest request that the running stack stores as it is', async () => {
    const example = jsonExamples(markdown).find((ex) => ex.schema === 'IngestRequest');
    const res = await call('ingest', { token: (await newUser()).token, body: JSON.parse(example!.text) });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([expect.objectContaining({ index: 0, outcome: 'created' })]);
  });

  it('names every query parameter and body field the contract accepts', () => {
    expect(undocumentedParameters(markdown, ALL_FUNCTIONS)).toEqual([]);
  });

  it('notices an unmarked example, a wrong one, and a parameter left out', () => {
    const unmarked = markdown.replace(/<!-- example: ErrorBody -->\n/, '');
    expect(exampleProblems(unmarked, ALL_FUNCTIONS, openapi)).toEqual([expect.stringMatching(/without <!-- example/)]);
    const wrong = markdown.replace('"lease_seconds": 300', '"lease_seconds": 5');
    expect(exampleProblems(wrong, ALL_FUNCTIONS, openapi).length).toBeGreaterThan(0);
    const extraKey = markdown.replace('"already_recorded": false', '"already_recorded": false, "retried": true');
    expect(exampleProblems(extraKey, ALL_FUNCTIONS, openapi)).toEqual([expect.stringMatching(/FailResponse.*additional/)]);
    const silent = markdown.replaceAll('max_attempts', 'the attempt limit');
    expect(undocumentedParameters(silent, ALL_FUNCTIONS)).toEqual(['POST /batches: max_attempts']);
  });
});
