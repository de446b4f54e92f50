// Real answers of the running stack, over HTTP, are what docs/openapi.json says: a sample of every
// function's routes (ingest, the query reads, the batch life cycle and the runner protocol, datasets, health)
// and of the error answers, each checked by status, content type and schema (test/support/openapi-check.ts).
import { describe, expect, inject, it } from 'vitest';
import { ALL_FUNCTIONS } from '../../shared/api/all-functions.ts';
import { openApiPath } from '../../shared/api/route-table.ts';
import { call, type CallOptions } from '../support/http.ts';
import { openApiChecker, type Answer } from '../support/openapi-check.ts';
import { batchItems, calc, resultFor } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

const problems = openApiChecker();
const checked = new Set<string>();

/** Calls `operation` (`GET /query/calculations/{id}`) with `params` filled in, and checks the answer. */
async function checkedCall(operation: string, params: Record<string, string>, opts: CallOptions & { query?: string } = {}) {
  const [method, template] = operation.split(' ');
  const path = template.replace(/\{(\w+)\}/g, (_, name) => params[name]);
  const res = await call(`${path.slice(1)}${opts.query ? `?${opts.query}` : ''}`, { ...opts, method });
  expect(problems(operation, res), `${operation} → ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`).toEqual([]);
  checked.add(operation);
  return res;
}

describe('answers of the running stack match docs/openapi.json', () => {
  it('the checker refuses what the document does not allow', () => {
    const answer = (status: number, body: unknown, type = 'application/json'): Answer =>
      ({ status, body, headers: new Headers({ 'content-type': type }) });
    const health = { status: 'ok' };
    expect(problems('GET /health', answer(200, health))).toEqual([]);
    expect(problems('GET /health', answer(200, { status: 'fine' }))).not.toEqual([]);
    expect(problems('GET /health', answer(201, health))).toEqual(['GET /health does not document status 201']);
    expect(problems('GET /health', answer(200, health, 'text/plain'))).not.toEqual([]);
    expect(problems('GET /query/stats', answer(400, { error: { code: 'x', message: 'y', extra: 1 } }))).not.toEqual([]);
    expect(problems('GET /query/stats', answer(400, { error: { code: 'x', message: 'y' } }))).toEqual([]);
  });

  it('ingest, the query reads and the corrections', async () => {
    const user = await newUser();
    const token = user.token;
    const ingested = await checkedCall('POST /ingest', {}, {
      token,
      body: { calculations: [calc({ smiles: 'CCO', withGradient: true }), calc({ smiles: 'O', status: 'failed' }), calc({ smiles: 'C1CC' })] },
    });
    expect(ingested.body.counts).toEqual({ created: 2, duplicate: 0, updated: 0, rejected: 1, deferred: 0 });
    const id = ingested.body.results[0].calculation_id;
    const moleculeId = ingested.body.results[0].molecule_id;

    await checkedCall('GET /query/molecules', {}, { token });
    await checkedCall('GET /query/molecules/{id}', { id: moleculeId }, { token });
    const page = await checkedCall('GET /query/calculations', {}, { token, query: 'limit=1' });
    expect(page.body.next_cursor).not.toBeNull();
    await checkedCall('GET /query/calculations/{id}', { id }, { token });
    await checkedCall('GET /query/stats', {}, { token, query: 'bins=5' });
    await checkedCall('GET /query/events', {}, { token, query: 'limit=5' });
    for (const format of ['csv', 'ndjson', 'extxyz']) await checkedCall('GET /query/export', {}, { token, query: `format=${format}` });
    await checkedCall('GET /query/calculations/{id}/xtb.out', { id }, { token }); // none kept: 404

    await checkedCall('PATCH /ingest/molecules/{id}', { id: moleculeId }, { token, method: 'PATCH', body: { name: 'ethanol' } });
    await checkedCall('PATCH /ingest/calculations/{id}', { id }, { token, method: 'PATCH', body: { tags: ['checked'] } });
    await checkedCall('POST /ingest/delete', {}, { token, body: { filters: { status: 'failed' } } });
    await checkedCall('DELETE /ingest/calculations/{id}', { id }, { token, method: 'DELETE' });
    await checkedCall('DELETE /ingest/molecules/{id}', { id: moleculeId }, { token, method: 'DELETE' });
  });

  it('the batch life cycle and the runner protocol', async () => {
    const { token } = await newUser();
    const created = await checkedCall('POST /batches', {}, { token, body: { name: 'openapi', items: batchItems(3) } });
    const id = created.body.batch.id;
    await checkedCall('POST /batches/{id}/items', { id }, { token, body: { items: batchItems(1, 3) } });
    await checkedCall('GET /batches', {}, { token });
    const claimed = await checkedCall('POST /batches/claim', {}, { token, body: { runner_id: 'r1', batch_id: id, limit: 3 } });
    const [a, b, c] = claimed.body.items;
    await checkedCall('POST /batches/heartbeat', {}, { token, body: { runner_id: 'r1', item_ids: [a.item_id] } });
    await checkedCall('POST /batches/complete', {}, { token, body: { item_id: a.item_id, runner_id: 'r1', result: resultFor(a) } });
    await checkedCall('POST /batches/complete-many', {}, { token, body: { runner_id: 'r1', items: [{ item_id: b.item_id, result: resultFor(b) }] } });
    await checkedCall('POST /batches/fail', {}, { token, body: { item_id: c.item_id, runner_id: 'r1', error_class: 'invalid_input', message: 'bad input' } });
    await checkedCall('GET /batches/{id}', { id }, { token });
    await checkedCall('POST /batches/{id}/retry', { id }, { token });
    await checkedCall('DELETE /batches/{id}', { id }, { token, method: 'DELETE' }); // still running: 409
    await checkedCall('POST /batches/{id}/cancel', { id }, { token });
    await checkedCall('DELETE /batches/{id}', { id }, { token, method: 'DELETE' });
  });

  it('datasets: a dataset, a release, its manifest and its export', async () => {
    const { token } = await newUser();
    const ingested = await checkedCall('POST /ingest', {}, { token, body: { calculations: [calc({ smiles: 'CCO' }), calc({ smiles: 'CCN' })] } });
    const ids = ingested.body.results.map((r: { calculation_id: string }) => r.calculation_id);
    const dataset = await checkedCall('POST /datasets', {}, { token, body: { name: 'openapi' } });
    const id = dataset.body.id;
    const release = { license: 'CC-BY-4.0', authors: ['A. Chemist'], description: 'two alcohols', calculation_ids: ids };
    await checkedCall('POST /datasets/{id}/releases', { id }, { token, body: release });
    await checkedCall('GET /datasets', {}, { token });
    await checkedCall('GET /datasets/{id}/releases/{version}', { id, version: '1' }, { token });
    for (const format of ['csv', 'ndjson', 'extxyz']) {
      await checkedCall('GET /datasets/{id}/releases/{version}/export', { id, version: '1' }, { token, query: `format=${format}` });
    }
    expect((await checkedCall('GET /datasets/{id}/releases/{version}', { id, version: '0' }, { token })).status).toBe(400);
    expect((await checkedCall('POST /datasets', {}, { token, body: { name: 'openapi' } })).status).toBe(409);
  });

  it('health, as the service role and as anyone else', async () => {
    await checkedCall('GET /health', {}, { token: inject('stack').serviceRoleKey });
    await checkedCall('GET /health', {}, { token: inject('stack').anonKey });
  });

  it('error answers: bad parameters and bodies, tokens, unknown ids, conflicts', async () => {
    const { token } = await newUser();
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await checkedCall('GET /query/calculations', {}, { token, query: 'limit=0' })).status).toBe(400);
    expect((await checkedCall('GET /query/calculations/{id}', { id: 'nope' }, { token })).status).toBe(400);
    expect((await checkedCall('GET /query/calculations/{id}', { id: missing }, { token })).status).toBe(404);
    expect((await checkedCall('GET /query/stats', {}, { token: null })).status).toBe(401);
    expect((await checkedCall('GET /batches', {}, { token: inject('stack').anonKey })).status).toBe(401);
    expect((await checkedCall('GET /batches', {}, { token, query: 'all_users=true' })).status).toBe(403);
    expect((await checkedCall('POST /ingest', {}, { token, rawBody: '{', contentType: 'application/json' })).status).toBe(400);
    expect((await checkedCall('POST /ingest', {}, { token, rawBody: 'x', contentType: 'text/plain' })).status).toBe(415);
    expect((await checkedCall('POST /batches', {}, { token, body: { name: 'x', items: [] } })).status).toBe(422);
    expect((await checkedCall('POST /batches/{id}/cancel', { id: missing }, { token })).status).toBe(404);
  });

  it('covered every function', () => {
    for (const fn of ALL_FUNCTIONS) {
      const ops = fn.routes.map((r) => `${r.method} ${openApiPath(fn.name, r.path)}`);
      expect(ops.filter((op) => checked.has(op)).length, fn.name).toBeGreaterThan(0);
    }
  });
});
