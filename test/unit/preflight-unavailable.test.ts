// The uploader's and runner's pre-start health check names what a 503 means, read from the body:
// the auth keys (auth_unavailable), the database (database_unavailable, or health's own answer
// with its database unreachable), or, for anything else, the status and code as given. Served by
// a real HTTP server standing in for the functions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflight, UnreachableError } from '../../scripts/lib/connection.ts';

let server: http.Server;
let url: string;
let answer: unknown = {};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function reason(body: unknown): Promise<string> {
  answer = body;
  const err = await preflight({ url, key: 'k', mode: 'user', owner: 'u' }, { attempts: 1 }).then(() => null, (e) => e);
  expect(err).toBeInstanceOf(UnreachableError);
  return (err as Error).message;
}

describe('preflight on a 503', () => {
  it('auth_unavailable: the keys that check tokens, not the database', async () => {
    const msg = await reason({ error: { code: 'auth_unavailable', message: 'the signing keys needed to check this token could not be fetched; retry shortly' } });
    expect(msg).toContain('auth_unavailable');
    expect(msg).toContain('signing keys');
    expect(msg).not.toContain('database');
  });

  it('database_unavailable: the database', async () => {
    const msg = await reason({ error: { code: 'database_unavailable', message: 'the database is unavailable; retry the request' } });
    expect(msg).toMatch(/the database is unavailable \(HTTP 503 database_unavailable\)/);
  });

  it('health\'s own answer: the database, with its reason', async () => {
    const msg = await reason({ status: 'unavailable', database: { reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:5432' } });
    expect(msg).toMatch(/the database is unavailable \(HTTP 503\): connect ECONNREFUSED/);
  });

  it('any other 503 is named as it came', async () => {
    const msg = await reason({ message: 'upstream busy' });
    expect(msg).toMatch(/answered HTTP 503 without an error code/);
    expect(msg).not.toContain('database');
  });
});
