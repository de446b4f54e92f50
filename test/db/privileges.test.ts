// Nothing reachable beside the functions: what the Data API's roles may do in every schema the Data
// API would expose. The local bootstrap grants as a hosted project does (ALL on every new table,
// sequence and function in public to anon, authenticated and service_role; EXECUTE to PUBLIC), so
// anything a migration forgets to revoke shows up here exactly as it would at /rest/v1.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { repoPath } from '../../scripts/stack/paths.ts';
import { adminSql, API_ROLE } from '../support/db.ts';
import { newUser } from '../support/users.ts';
import { errorOf } from '../support/sql-helpers.ts';

/** The schemas config.toml lists under [api], plus public and graphql_public, which hosted exposes by default. */
function exposedSchemas(): string[] {
  const toml = readFileSync(repoPath('supabase/config.toml'), 'utf8');
  const api = /^\[api\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  const listed = /^schemas\s*=\s*\[([^\]]*)\]/m.exec(api)?.[1] ?? '';
  const names = [...listed.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  return [...new Set([...names, 'public', 'graphql_public'])].sort();
}

const DATA_API_ROLES = ['anon', 'authenticated'] as const;

/**
 * Everything anon and authenticated may do there, and why. Anything else fails the test.
 *   USAGE on the schemas: granted by the platform; PostgREST needs it to start, and it opens no object.
 *   graphql_public.graphql: the platform's GraphQL entry point, which shows a role only the tables it
 *   may select (none).
 */
const ALLOWED = DATA_API_ROLES.flatMap((role) => [
  `${role} USAGE schema graphql_public`,
  `${role} USAGE schema public`,
  `${role} EXECUTE function graphql_public.graphql(text,text,jsonb,jsonb)`,
]).sort();

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'];
const COLUMN_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
const SEQUENCE_PRIVILEGES = ['USAGE', 'SELECT', 'UPDATE'];
const KINDS: Record<string, string> = { r: 'table', p: 'table', v: 'view', m: 'materialized view', f: 'foreign table', S: 'sequence' };

interface Held { role: string; privilege: string; kind: string; name: string }

/** Every privilege `roles` hold in `schemas`, object by object, through has_*_privilege (grants to PUBLIC included). */
async function privileges(roles: readonly string[], schemas: string[]): Promise<{ held: Held[]; seen: string[] }> {
  const sql = adminSql();
  const held: Held[] = [];
  const seen: string[] = [];
  const present = await sql<{ nspname: string }[]>`select nspname from pg_namespace where nspname = any(${schemas})`;
  for (const { nspname: schema } of present) {
    for (const role of roles) {
      for (const privilege of ['USAGE', 'CREATE']) {
        const [{ ok }] = await sql`select has_schema_privilege(${role}, ${schema}, ${privilege}) as ok`;
        if (ok) held.push({ role, privilege, kind: 'schema', name: schema });
      }
    }
    const relations = await sql<{ oid: number; relkind: string; name: string }[]>`
      select c.oid::int as oid, c.relkind::text as relkind, format('%I.%I', n.nspname, c.relname) as name
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')`;
    for (const rel of relations) {
      const kind = KINDS[rel.relkind];
      seen.push(`${kind} ${rel.name}`);
      for (const role of roles) {
        const checks = rel.relkind === 'S'
          ? SEQUENCE_PRIVILEGES.map((p) => sql`select ${p} as p, has_sequence_privilege(${role}, ${rel.oid}::oid, ${p}) as ok`)
          : [
              ...TABLE_PRIVILEGES.map((p) => sql`select ${p} as p, has_table_privilege(${role}, ${rel.oid}::oid, ${p}) as ok`),
              // A grant on some columns only (e.g. insert (name, …)) shows here and not above.
              ...COLUMN_PRIVILEGES.map((p) => sql`select ${'column ' + p} as p, has_any_column_privilege(${role}, ${rel.oid}::oid, ${p}) as ok`),
            ];
        for (const [{ p, ok }] of await Promise.all(checks)) if (ok) held.push({ role, privilege: p, kind, name: rel.name });
      }
    }
    const routines = await sql<{ oid: number; name: string }[]>`
      select p.oid::int as oid,
             format('%I.%I(%s)', n.nspname, p.proname, replace(oidvectortypes(p.proargtypes), ', ', ',')) as name
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = ${schema}`;
    for (const { oid, name } of routines) {
      seen.push(`function ${name}`);
      for (const role of roles) {
        const [{ ok }] = await sql`select has_function_privilege(${role}, ${oid}::oid, 'EXECUTE') as ok`;
        if (ok) held.push({ role, privilege: 'EXECUTE', kind: 'function', name });
      }
    }
  }
  return { held, seen };
}

describe('what the Data API roles may do', () => {
  it('config.toml keeps the Data API off and names the schemas it would expose', () => {
    const toml = readFileSync(repoPath('supabase/config.toml'), 'utf8');
    expect(toml).toMatch(/^\[api\]\s+enabled = false$/m);
    expect(exposedSchemas()).toEqual(['graphql_public', 'public']);
  });

  it('anon and authenticated hold nothing beyond USAGE on the exposed schemas and the GraphQL entry point', async () => {
    const { held, seen } = await privileges(DATA_API_ROLES, exposedSchemas());
    // The check looked at the project's objects of every kind, not at an empty schema.
    for (const object of [
      'table public.calculations', 'table public.atomic_properties', 'table public.event_logs', 'view public.batch_progress',
      'view public.user_stats', 'sequence public.batch_items_seq_seq', 'sequence public.event_logs_id_seq',
      'function public.ingest_calculations(jsonb,integer[],integer[],text[],integer[],double precision[],double precision[],double precision[],double precision[],double precision[],double precision[],double precision[],double precision[],jsonb)',
      'table public.specifications', 'table public.calculation_provenance', 'function public.xtb_specification(text,text,text,text[])',
      'function public.log_performance_metric(jsonb)', 'function public.claim_batch_items(text,integer,integer,uuid,text[],boolean)',
      'function public.log_error_event(jsonb)',
    ]) expect(seen, object).toContain(object);
    expect(seen.length).toBeGreaterThan(40);

    const found = held.map((h) => `${h.role} ${h.privilege} ${h.kind} ${h.name}`).sort();
    expect(found).toEqual(ALLOWED);
  });

  it('service_role keeps only reads, writes and EXECUTE, for the functions\' work across users', async () => {
    const { held } = await privileges(['service_role'], ['public']);
    const kinds = new Set(held.map((h) => `${h.kind} ${h.privilege}`));
    for (const k of kinds) {
      expect(['schema USAGE', 'function EXECUTE'].includes(k) || /^(table|view) (column )?(SELECT|INSERT|UPDATE|DELETE)$/.test(k), k)
        .toBe(true);
    }
    expect(held.filter((h) => h.kind === 'sequence')).toEqual([]);
    // Nothing that only the owner's maintenance or the triggers may run.
    const fns = held.filter((h) => h.kind === 'function').map((h) => h.name);
    for (const owner of ['purge_event_logs(interval)', 'refresh_user_stats()', 'log_error_event(jsonb)']) {
      expect(fns.some((f) => f.endsWith(`public.${owner}`)), owner).toBe(false);
    }
  });

  it('the functions\' role cannot log in, bypasses no policy, and only the functions\' user may become it', async () => {
    const [role] = await adminSql()`
      select rolcanlogin, rolbypassrls, rolsuper,
             pg_has_role('authenticator', ${API_ROLE}, 'MEMBER') as authenticator_member,
             pg_has_role('postgres', ${API_ROLE}, 'SET') as postgres_may_set,
             (select array_agg(m.roleid::regrole::text order by m.roleid::regrole::text) from pg_auth_members m
               where m.member = 'authenticator'::regrole) as authenticator_roles,
             -- It inherits what the platform gives a signed-in user (the auth schema), no more.
             (select array_agg(m.roleid::regrole::text order by m.roleid::regrole::text) from pg_auth_members m
               where m.member = ${API_ROLE}::regrole) as member_of
        from pg_roles where rolname = ${API_ROLE}`;
    expect(role).toEqual({
      rolcanlogin: false, rolbypassrls: false, rolsuper: false,
      authenticator_member: false, postgres_may_set: true,
      authenticator_roles: ['anon', 'authenticated', 'service_role'],
      member_of: ['authenticated'],
    });
  });
});

describe('a session as PostgREST opens it, with a user\'s token', () => {
  let authenticator: postgres.Sql | undefined;
  afterAll(async () => {
    await authenticator?.end();
  });

  /** Logs in as authenticator (a password set for this test) and runs `work` as PostgREST would for that token. */
  async function asPostgrest<T>(role: string, claims: object, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
    if (!authenticator) {
      const password = randomBytes(18).toString('hex');
      await adminSql().unsafe(`alter role authenticator with login password '${password}'`);
      const url = new URL(inject('stack').dbUrl);
      url.username = 'authenticator';
      url.password = password;
      authenticator = postgres(url.toString(), { max: 1, onnotice: () => {} });
    }
    return authenticator.begin(async (tx) => {
      await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      return work(tx);
    }) as Promise<T>;
  }

  it('as authenticated cannot update calculations, insert atoms, or call ingest_calculations or log_performance_metric', async () => {
    const user = await newUser();
    const claims = { role: 'authenticated', sub: user.id, aud: 'authenticated' };
    const attempts: Record<string, (tx: postgres.TransactionSql) => Promise<unknown>> = {
      'update calculations': (tx) => tx`update public.calculations set total_energy_eh = -1 where user_id = ${user.id}`,
      'insert atomic_properties': (tx) => tx`
        insert into public.atomic_properties (calculation_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang)
        values (gen_random_uuid(), 0, 'H', 1, 0, 0, 0)`,
      'rpc ingest_calculations': (tx) => tx`
        select * from public.ingest_calculations('[]'::jsonb, null, null, null, null, null, null, null, null, null, null, null)`,
      'rpc log_performance_metric': (tx) => tx`select public.log_performance_metric('{"ms": 1}'::jsonb)`,
      'update batch_items': (tx) => tx`update public.batch_items set priority = 1000000 where user_id = ${user.id}`,
      'select molecules': (tx) => tx`select * from public.molecules`,
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const err = await errorOf(asPostgrest('authenticated', claims, attempt));
      expect(err.code, what).toBe('42501');
      expect(err.message, what).toMatch(/permission denied/);
    }
  });

  it('no token can make it the functions\' role', async () => {
    const user = await newUser();
    const err = await errorOf(asPostgrest(API_ROLE, { role: API_ROLE, sub: user.id }, (tx) => tx`select 1`));
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/permission denied to set role/);
  });
});
