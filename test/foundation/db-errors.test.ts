// Database messages are logged, never returned: a Postgres error a client's data caused becomes a
// message written by us in the one error shape, naming the field where the error says which; any
// other becomes a bare 500. Checked on the mapper itself, and over HTTP with errors forced by a
// trigger (on this test's user only) whose text must not reach the client.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toErrorResponse } from '../../supabase/functions/_shared/errors.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

const SECRET = 'SECRET-pg-text-7f3a';

/** What postgres.js throws for a server error. */
const pgError = (fields: Record<string, string>) =>
  Object.assign(new Error(`${SECRET}: ${fields.code}`), { name: 'PostgresError', severity: 'ERROR', detail: SECRET, ...fields });

async function answer(err: unknown) {
  const res = toErrorResponse(err);
  const body = await res.json() as any;
  return { status: res.status, body, text: JSON.stringify(body) };
}

describe('the mapper', () => {
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  afterEach(() => logged.mockClear());
  afterAll(() => logged.mockRestore());

  it.each([
    ['check rule', { code: '23514', table_name: 'calculations', constraint_name: 'calculations_total_energy_eh_finite' }, 422, 'total_energy_eh', /must be a finite number/],
    ['check rule with a column', { code: '23514', table_name: 'batch_jobs', constraint_name: 'batch_jobs_status_transition', column_name: 'status' }, 422, 'status', /status change is not allowed/],
    ['completed without energy', { code: '23514', table_name: 'calculations', constraint_name: 'calculations_completed_has_energy' }, 422, 'total_energy_eh', /needs a total energy/],
    ['unknown check rule', { code: '23514', table_name: 'calculations', constraint_name: 'something_else' }, 422, 'request', /breaks a rule/],
    ['missing user', { code: '23503', table_name: 'molecules', constraint_name: 'molecules_user_id_fkey' }, 422, 'user_id', /^user_id: no such user$/],
    ['missing reference', { code: '23503', table_name: 'calculations', constraint_name: 'calculations_molecule_fkey' }, 422, 'molecule_id', /does not exist/],
    ['not null', { code: '23502', table_name: 'molecules', column_name: 'inchikey' }, 422, 'inchikey', /must not be null/],
    ['invalid input', { code: '22P02' }, 422, 'request', /not in the form its type needs/],
    ['out of range', { code: '22003' }, 422, 'request', /out of range/],
    ['duplicate', { code: '23505', table_name: 'molecules', constraint_name: 'molecules_user_id_inchikey_key' }, 409, undefined, /conflicts with a stored row/],
    ['anything else', { code: 'XX000' }, 500, undefined, /^internal error$/],
  ] as [string, Record<string, string>, number, string | undefined, RegExp][])('%s', async (_name, fields, status, path, message) => {
    const { status: got, body, text } = await answer(pgError(fields));
    expect(got).toBe(status);
    expect(body.error.message).toMatch(message);
    if (path) expect(body.error.details).toEqual([{ path, issue: expect.any(String) }]);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(fields.constraint_name ?? SECRET);
    // The database's own words go to the log.
    expect(logged.mock.calls.flat().map(String).join(' ')).toContain(SECRET);
  });
});

describe('over HTTP', () => {
  let user: TestUser;
  const sql = adminSql();

  beforeAll(async () => {
    user = await newUser();
    await sql.unsafe(`
      create or replace function public.test_db_errors_fault() returns trigger language plpgsql as $$
      begin return new; end $$;
      create trigger test_db_errors_fault before insert on public.calculations
        for each row when (new.user_id = '${user.id}'::uuid) execute function public.test_db_errors_fault();`);
  });
  afterAll(async () => {
    await sql.unsafe('drop trigger if exists test_db_errors_fault on public.calculations; drop function if exists public.test_db_errors_fault();');
  });

  const force = (raise: string) => sql.unsafe(`
    create or replace function public.test_db_errors_fault() returns trigger language plpgsql as $$
    begin ${raise} end $$;`);
  const ingest = () => call('ingest', { method: 'POST', body: { calculations: [calc({ seed: Math.random() })] }, token: user.token });

  it.each([
    ['a check violation on a column', `raise exception '${SECRET} check' using errcode = 'check_violation', column = 'tags', constraint = 'calculations_tags_rule', table = 'calculations', detail = '${SECRET}', hint = '${SECRET}';`, 422, 'tags'],
    ['invalid input', `raise exception 'invalid input syntax for type integer: "${SECRET}"' using errcode = 'invalid_text_representation';`, 422, 'request'],
    ['an internal error', `raise exception '${SECRET} internal' using errcode = 'internal_error', detail = '${SECRET}';`, 500, undefined],
  ])('%s: no database text in the answer', async (_name, raise, status, path) => {
    await force(raise);
    const res = await ingest();
    expect(res.status).toBe(status);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    expect(JSON.stringify(res.body)).not.toMatch(/invalid input syntax|calculations_tags_rule|plpgsql|trigger/);
    if (path) expect(res.body.error.details[0].path).toBe(path);
  });
});
