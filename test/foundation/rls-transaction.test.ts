// The per-request transaction helper (_shared/db.ts) really applies RLS: a throw-away table with a
// policy on (select auth.uid()) shows each user only their own rows through it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { API_ROLE, createPool, withCaller, type Sql } from '../../supabase/functions/_shared/db.ts';
import { adminSql } from '../support/db.ts';

// In a schema of its own, so that it never shows among the objects the Data API would expose
// (test/db/privileges.test.ts reads public on the same database).
const schema = `rls_probe_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const table = `${schema}.probe`;
const alice = randomUUID();
const bob = randomUUID();
let pool: Sql;

beforeAll(async () => {
  const sql = adminSql();
  // Granted as the migrations grant: to the functions' role (API_ROLE) and service_role.
  await sql.unsafe(`
    create schema ${schema};
    grant usage on schema ${schema} to ${API_ROLE}, service_role;
    create table ${table} (id int generated always as identity primary key, user_id uuid not null, note text);
    alter table ${table} enable row level security;
    create policy probe_own on ${table} for all to ${API_ROLE}
      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
    grant select, insert on ${table} to ${API_ROLE}, service_role;
    insert into ${table} (user_id, note) values ('${alice}', 'a1'), ('${alice}', 'a2'), ('${bob}', 'b1');
  `);
  pool = createPool({ dbUrl: inject('stack').dbUrl, poolMax: 2 });
});

afterAll(async () => {
  await pool?.end();
  await adminSql().unsafe(`drop schema if exists ${schema} cascade`);
});

const notes = (rows: { note: string }[]) => rows.map((r) => r.note).sort();

describe('withCaller', () => {
  it('shows each user only their rows, anon none, service_role all', async () => {
    const q = (tx: any) => tx.unsafe(`select note from ${table}`);
    expect(notes(await withCaller(pool, { role: 'authenticated', sub: alice }, q))).toEqual(['a1', 'a2']);
    expect(notes(await withCaller(pool, { role: 'authenticated', sub: bob }, q))).toEqual(['b1']);
    await expect(withCaller(pool, { role: 'anon' }, q)).rejects.toThrow(/permission denied/);
    expect(notes(await withCaller(pool, { role: 'service_role' }, q))).toEqual(['a1', 'a2', 'b1']);
    expect(notes(await withCaller(pool, { role: 'service_role' }, q, { actAs: bob }))).toEqual(['b1']);
  });

  it('refuses to write a row for another user, and leaves no setting behind', async () => {
    await expect(withCaller(pool, { role: 'authenticated', sub: alice }, (tx) =>
      tx.unsafe(`insert into ${table} (user_id, note) values ('${bob}', 'forged')`))).rejects.toThrow(/row-level security/);
    const [after] = await pool`select current_user as role, current_setting('request.jwt.claims', true) as claims`;
    expect(after.role).toBe('postgres');
    expect(after.claims ?? '').toBe('');
  });
});
