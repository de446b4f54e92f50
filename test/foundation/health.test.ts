// health over real HTTP on the shared stack: the service role gets the database facts (versions,
// tables), the anon key and users only up or down; JSON errors elsewhere.
import { describe, expect, inject, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { call } from '../support/http.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { newUser } from '../support/users.ts';

const latestMigration = readdirSync(repoPath('supabase/migrations'))
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.split('_')[0])
  .sort()
  .at(-1) ?? null;

describe('health', () => {
  it('answers 200 to the service role with the database facts', async () => {
    const res = await call('health', { token: inject('stack').serviceRoleKey });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.database.reachable).toBe(true);
    expect(res.body.database.server_version).toMatch(/^17\./);
    expect(res.body.database.latency_ms).toBeGreaterThan(0);
    expect(res.body.database.migration_version).toBe(latestMigration);
    expect(res.body.database.all_tables_present).toBe(latestMigration !== null);
  });

  it('tells the anon key and a user up or down, and nothing more', async () => {
    for (const token of [inject('stack').anonKey, (await newUser()).token]) {
      const res = await call('health', { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
      expect(JSON.stringify(res.body)).not.toMatch(/17\.|version|database|error/);
    }
  });

  it('refuses a request without a token with a JSON 401', async () => {
    const res = await call('health', { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('answers 405 to another method and 404 JSON to an unknown route', async () => {
    const post = await call('health', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.body.error.code).toBe('method_not_allowed');
    const missing = await call('health/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const noFunction = await call('no-such-function');
    expect(noFunction.status).toBe(404);
    expect(noFunction.headers.get('content-type')).toMatch(/application\/json/);
  });
});
