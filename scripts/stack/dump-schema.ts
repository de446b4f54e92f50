// The schema as one normalised text (`supabase/schema.sql`), read from the catalogs of a migrated
// database. pg_dump would do, but none of version 17 installs here (the embedded server ships
// without it, and Debian's pg_dump 15 refuses a 17 server), so the definitions come from the
// server's own pg_get_functiondef, pg_get_viewdef, pg_get_constraintdef, pg_get_indexdef and
// pg_get_triggerdef; policies, grants and comments from the catalogs.
//
// Normalised: objects sorted by name (per table: constraints, indexes, triggers, policies), every
// name schema-qualified (the dump runs with an empty search_path), and nothing that differs
// between two builds of the same migrations: no OIDs, owners, versions, sequence values or data.
// Privileges are listed as the grants each role holds beyond the owner, PUBLIC included, so a
// function that kept PostgreSQL's default EXECUTE for PUBLIC shows it. Column grants, comments,
// view options (security_invoker) and row-level security are part of the text.
//
// Only the project's schemas are read: every schema except the system's, the platform's (auth,
// extensions, storage, …) and the CLI's migration history. An object kind this dumper cannot
// render makes it fail rather than leave the object out.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { applyBootstrap, pushMigrations } from './migrate.ts';

/** Schemas that belong to PostgreSQL, the Supabase platform (or its local bootstrap) or the CLI. */
const NOT_OURS = [
  'pg_catalog', 'information_schema', 'pg_toast', 'auth', 'extensions', 'supabase_migrations',
  'storage', 'graphql', 'graphql_public', 'realtime', 'vault', 'pgbouncer', 'net', 'supabase_functions',
  'cron', 'pgsodium', 'pgsodium_masks', '_realtime', '_analytics',
];

const PRIVILEGE_ORDER = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN', 'EXECUTE', 'USAGE', 'CREATE'];

type Sql = postgres.Sql | postgres.TransactionSql;

interface Grant { grantee: string; privilege: string; grantable: boolean; column: string | null; attnum: number | null }

/**
 * `grant …;` lines: one per set of privileges (in a fixed order), naming every grantee that holds
 * exactly that set; then column grants, one per privilege and column list (columns as declared).
 */
function grantLines(kind: string, qname: string, grants: Grant[]): string[] {
  const rank = (p: string) => PRIVILEGE_ORDER.indexOf(p);
  /** Groups `rows` per grantee and `key`, renders each group's privileges, then merges grantees. */
  const render = (rows: Grant[], key: (g: Grant) => string, privileges: (group: Grant[]) => string): string[] => {
    const groups = new Map<string, Grant[]>();
    for (const g of rows) {
      const k = `${g.grantee}\u0000${key(g)}\u0000${g.grantable}`;
      groups.set(k, [...(groups.get(k) ?? []), g]);
    }
    const grantees = new Map<string, string[]>(); // "privileges\u0000grantable" -> grantees
    for (const group of groups.values()) {
      const k = `${privileges(group)}\u0000${group[0].grantable}`;
      grantees.set(k, [...(grantees.get(k) ?? []), group[0].grantee]);
    }
    return [...grantees.entries()]
      .map(([k, names]) => {
        const [what, grantable] = k.split('\u0000');
        return `grant ${what} on ${kind} ${qname} to ${names.sort().join(', ')}${grantable === 'true' ? ' with grant option' : ''};`;
      })
      .sort();
  };
  return [
    ...render(grants.filter((g) => g.column === null), () => '',
      (group) => group.map((g) => g.privilege).sort((a, b) => rank(a) - rank(b)).join(', ').toLowerCase()),
    ...render(grants.filter((g) => g.column !== null).sort((a, b) => a.attnum! - b.attnum!), (g) => g.privilege,
      (group) => `${group[0].privilege.toLowerCase()} (${group.map((g) => g.column).join(', ')})`),
  ];
}

function commentLine(target: string, comment: string | null | undefined): string[] {
  if (comment == null) return [];
  return [`comment on ${target} is ${literal(comment)};`];
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function section(title: string): string {
  const rule = '-- ' + '-'.repeat(93);
  return `${rule}\n-- ${title}\n${rule}`;
}

/** The schema of the database `sql` is connected to, as normalised SQL text. */
export async function dumpSchema(db: postgres.Sql): Promise<string> {
  return db.begin('isolation level repeatable read read only', async (sql) => {
    await sql`set local search_path = ''`;
    return dumpInTransaction(sql);
  }) as Promise<string>;
}

async function dumpInTransaction(sql: Sql): Promise<string> {
  const schemas = (await sql<{ nspname: string }[]>`
    select n.nspname
      from pg_catalog.pg_namespace n
     where n.nspname <> all (${NOT_OURS})
       and n.nspname !~ '^pg_(temp|toast_temp)_'
     order by n.nspname`).map((r) => r.nspname);

  // Objects that belong to an extension are the extension's, not ours.
  const extensionMember = sql`
    exists (select 1 from pg_catalog.pg_depend d
             where d.objid = x.oid and d.deptype = 'e')`;

  await refuseUnsupported(sql, schemas);

  const out: string[] = [
    '-- The schema that supabase/migrations build, generated by `npm run db:schema`',
    '-- (scripts/stack/dump-schema.ts). Do not edit: change a migration and regenerate.',
    '-- test/db/schema-file.test.ts fails while this file differs from a fresh build.',
    '--',
    '-- Order: extensions, schemas, types, tables (each with its comments, row-level security,',
    '-- indexes, triggers, policies and grants), sequences, views, functions; by name within each.',
    '-- Grants list what each role holds beyond the owner; "public" is PUBLIC.',
  ];

  // ---- extensions -----------------------------------------------------------------------------
  const extensions = await sql<{ line: string }[]>`
    select format('create extension if not exists %I with schema %I;', e.extname, n.nspname) as line
      from pg_catalog.pg_extension e
      join pg_catalog.pg_namespace n on n.oid = e.extnamespace
     where e.extname <> 'plpgsql'
     order by e.extname`;
  out.push('', section('Extensions (provided by the platform on hosted Supabase)'), '');
  out.push(...(extensions.length ? extensions.map((e) => e.line) : ['-- none']));

  // ---- schemas --------------------------------------------------------------------------------
  const schemaRows = await sql<{ nspname: string; comment: string | null; oid: number }[]>`
    select n.oid, n.nspname, pg_catalog.obj_description(n.oid, 'pg_namespace') as comment
      from pg_catalog.pg_namespace n
     where n.nspname = any (${schemas})
     order by n.nspname`;
  out.push('', section('Schemas'), '');
  for (const s of schemaRows) {
    if (s.nspname === 'public') {
      out.push('-- public (exists in every database; its grants belong to the platform)');
      continue;
    }
    out.push(`create schema ${quoteIdent(s.nspname)};`);
    out.push(...commentLine(`schema ${quoteIdent(s.nspname)}`, s.comment));
    out.push(...grantLines('schema', quoteIdent(s.nspname), await aclGrants(sql, 'pg_namespace', s.oid, 'n')));
  }
  const defaultAcls = await sql<{ line: string }[]>`
    select format('-- default privileges of role %I%s on %s: %s', r.rolname,
                  coalesce(' in schema ' || quote_ident(n.nspname), ''),
                  case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
                                       when 'T' then 'types' when 'n' then 'schemas' end,
                  array_to_string(array(select a::text from unnest(d.defaclacl) a order by 1), ' ')) as line
      from pg_catalog.pg_default_acl d
      join pg_catalog.pg_roles r on r.oid = d.defaclrole
      left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
     where n.nspname is null or n.nspname = any (${schemas})
     order by 1`;
  out.push(...defaultAcls.map((d) => d.line));

  // ---- types ----------------------------------------------------------------------------------
  const types = await sql<{ oid: number; qname: string; typtype: string; typrelid: number; comment: string | null }[]>`
    select x.oid, format('%I.%I', n.nspname, x.typname) as qname, x.typtype, x.typrelid,
           pg_catalog.obj_description(x.oid, 'pg_type') as comment
      from pg_catalog.pg_type x
      join pg_catalog.pg_namespace n on n.oid = x.typnamespace
     where n.nspname = any (${schemas})
       and not ${extensionMember}
       and not exists (select 1 from pg_catalog.pg_type y where y.typarray = x.oid)  -- an array type
     order by n.nspname, x.typname`;
  const typeBlocks: string[] = [];
  for (const t of types) {
    if (t.typtype === 'c') {
      const relkind = (await sql<{ relkind: string }[]>`select relkind from pg_catalog.pg_class where oid = ${t.typrelid}`)[0].relkind;
      if (relkind !== 'c') continue; // a table's or view's row type
      const attrs = await sql<{ name: string; type: string; comment: string | null }[]>`
        select quote_ident(a.attname) as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
               pg_catalog.col_description(a.attrelid, a.attnum) as comment
          from pg_catalog.pg_attribute a
         where a.attrelid = ${t.typrelid} and a.attnum > 0 and not a.attisdropped
         order by a.attnum`;
      typeBlocks.push([
        `create type ${t.qname} as (`,
        attrs.map((a) => `  ${a.name} ${a.type}`).join(',\n'),
        ');',
        ...commentLine(`type ${t.qname}`, t.comment),
        ...attrs.flatMap((a) => commentLine(`column ${t.qname}.${a.name}`, a.comment)),
      ].join('\n'));
    } else if (t.typtype === 'e') {
      const labels = await sql<{ label: string }[]>`
        select enumlabel as label from pg_catalog.pg_enum where enumtypid = ${t.oid} order by enumsortorder`;
      typeBlocks.push([
        `create type ${t.qname} as enum (${labels.map((l) => literal(l.label)).join(', ')});`,
        ...commentLine(`type ${t.qname}`, t.comment),
      ].join('\n'));
    } else if (t.typtype === 'd') {
      const [d] = await sql<{ base: string; notnull: boolean; def: string | null }[]>`
        select pg_catalog.format_type(x.typbasetype, x.typtypmod) as base, x.typnotnull as notnull, x.typdefault as def
          from pg_catalog.pg_type x where x.oid = ${t.oid}`;
      const checks = await sql<{ name: string; def: string }[]>`
        select quote_ident(conname) as name, pg_catalog.pg_get_constraintdef(oid, true) as def
          from pg_catalog.pg_constraint where contypid = ${t.oid} order by conname`;
      typeBlocks.push([
        `create domain ${t.qname} as ${d.base}${d.def !== null ? ` default ${d.def}` : ''}${d.notnull ? ' not null' : ''}` +
          checks.map((c) => `\n  constraint ${c.name} ${c.def}`).join('') + ';',
        ...commentLine(`domain ${t.qname}`, t.comment),
      ].join('\n'));
    } else {
      throw new Error(`dump-schema: type ${t.qname} of kind ${t.typtype} is not supported; teach scripts/stack/dump-schema.ts`);
    }
  }
  out.push('', section('Types'), '');
  out.push(typeBlocks.length ? typeBlocks.join('\n\n') : '-- none');

  // ---- tables ---------------------------------------------------------------------------------
  const relations = await sql<{ oid: number; qname: string; relkind: string; rls: boolean; forcerls: boolean;
                                 options: string[] | null; persistence: string; comment: string | null }[]>`
    select x.oid, format('%I.%I', n.nspname, x.relname) as qname, x.relkind,
           x.relrowsecurity as rls, x.relforcerowsecurity as forcerls, x.reloptions as options,
           x.relpersistence as persistence, pg_catalog.obj_description(x.oid, 'pg_class') as comment
      from pg_catalog.pg_class x
      join pg_catalog.pg_namespace n on n.oid = x.relnamespace
     where n.nspname = any (${schemas})
       and x.relkind in ('r', 'v', 'm', 'S')
       and not ${extensionMember}
     order by n.nspname, x.relname`;

  out.push('', section('Tables'));
  for (const t of relations.filter((r) => r.relkind === 'r')) {
    out.push('', await tableBlock(sql, t));
  }

  // ---- sequences ------------------------------------------------------------------------------
  out.push('', section('Sequences'));
  for (const s of relations.filter((r) => r.relkind === 'S')) {
    const [q] = await sql<{ type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean;
                            owned: string | null; identity: string | null }[]>`
      select pg_catalog.format_type(q.seqtypid, null) as type, q.seqstart::text as start, q.seqincrement::text as inc,
             q.seqmin::text as min, q.seqmax::text as max, q.seqcache::text as cache, q.seqcycle as cycle,
             (select format('%I.%I.%I', n.nspname, c.relname, a.attname)
                from pg_catalog.pg_depend d
                join pg_catalog.pg_class c on c.oid = d.refobjid
                join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
               where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = q.seqrelid
                 and d.deptype in ('a', 'i')) as owned,
             (select d.deptype::text from pg_catalog.pg_depend d
               where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = q.seqrelid and d.deptype = 'i') as identity
        from pg_catalog.pg_sequence q where q.seqrelid = ${s.oid}`;
    const params = `as ${q.type} increment by ${q.inc} minvalue ${q.min} maxvalue ${q.max} start with ${q.start} cache ${q.cache}` +
      `${q.cycle ? ' cycle' : ' no cycle'}`;
    out.push('');
    if (q.identity) out.push(`-- ${s.qname}: the identity of ${q.owned} (${params})`);
    else out.push(`create sequence ${s.qname} ${params}${q.owned ? ` owned by ${q.owned}` : ''};`);
    out.push(...commentLine(`sequence ${s.qname}`, s.comment));
    out.push(...grantLines('sequence', s.qname, await aclGrants(sql, 'pg_class', s.oid, 's')));
  }

  // ---- views ----------------------------------------------------------------------------------
  out.push('', section('Views'));
  for (const v of relations.filter((r) => r.relkind === 'v' || r.relkind === 'm')) {
    const [def] = await sql<{ def: string }[]>`select pg_catalog.pg_get_viewdef(${v.oid}::oid, true) as def`;
    const kind = v.relkind === 'm' ? 'materialized view' : 'view';
    const options = v.options?.length ? ` with (${[...v.options].sort().join(', ')})` : '';
    out.push('', `create ${kind} ${v.qname}${options} as\n${def.def.replace(/\s+$/, '')}`);
    if (!out[out.length - 1].endsWith(';')) out[out.length - 1] += ';';
    out.push(...commentLine(`${kind} ${v.qname}`, v.comment));
    out.push(...await columnComments(sql, v.oid, v.qname));
    if (v.relkind === 'm') out.push(...await indexLines(sql, v.oid));
    out.push(...grantLines('table', v.qname, await aclGrants(sql, 'pg_class', v.oid, 'r')));
  }

  // ---- functions ------------------------------------------------------------------------------
  const functions = await sql<{ oid: number; signature: string; kind: string; def: string; comment: string | null }[]>`
    select x.oid, x.oid::pg_catalog.regprocedure::text as signature,
           x.prokind as kind, pg_catalog.pg_get_functiondef(x.oid) as def,
           pg_catalog.obj_description(x.oid, 'pg_proc') as comment
      from pg_catalog.pg_proc x
      join pg_catalog.pg_namespace n on n.oid = x.pronamespace
     where n.nspname = any (${schemas})
       and not ${extensionMember}
     order by n.nspname, x.proname, pg_catalog.pg_get_function_identity_arguments(x.oid)`;
  out.push('', section('Functions'));
  for (const f of functions) {
    const kind = f.kind === 'p' ? 'procedure' : 'function';
    out.push('', f.def.replace(/\s+$/, '') + ';');
    out.push(...commentLine(`${kind} ${f.signature}`, f.comment));
    out.push(...grantLines(kind, f.signature, await aclGrants(sql, 'pg_proc', f.oid, 'f')));
  }

  return out.join('\n') + '\n';
}

async function tableBlock(sql: Sql, t: { oid: number; qname: string; rls: boolean; forcerls: boolean;
                                         options: string[] | null; persistence: string; comment: string | null }): Promise<string> {
  const columns = await sql<{ name: string; type: string; notnull: boolean; def: string | null; identity: string;
                              generated: string; collation: string | null }[]>`
    select quote_ident(a.attname) as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
           a.attnotnull as notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) as def,
           a.attidentity as identity, a.attgenerated as generated,
           case when a.attcollation <> ty.typcollation
                then (select format('%I.%I', cn.nspname, co.collname)
                        from pg_catalog.pg_collation co join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
                       where co.oid = a.attcollation) end as collation
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_type ty on ty.oid = a.atttypid
      left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = ${t.oid} and a.attnum > 0 and not a.attisdropped
     order by a.attnum`;
  const constraints = await sql<{ name: string; def: string }[]>`
    select quote_ident(c.conname) as name, pg_catalog.pg_get_constraintdef(c.oid, true) as def
      from pg_catalog.pg_constraint c
     where c.conrelid = ${t.oid}
     order by c.conname`;
  const width = Math.max(...columns.map((c) => c.name.length));
  const items = columns.map((c) => {
    let line = `  ${c.name.padEnd(width)} ${c.type}`;
    if (c.collation) line += ` collate ${c.collation}`;
    if (c.identity) line += ` generated ${c.identity === 'a' ? 'always' : 'by default'} as identity`;
    else if (c.generated === 's') line += ` generated always as (${c.def}) stored`;
    else if (c.def !== null) line += ` default ${c.def}`;
    if (c.notnull && !c.identity) line += ' not null';
    return line;
  });
  items.push(...constraints.map((c) => `  constraint ${c.name} ${c.def}`));
  const unlogged = t.persistence === 'u' ? 'unlogged ' : '';
  const options = t.options?.length ? ` with (${[...t.options].sort().join(', ')})` : '';
  const lines = [`create ${unlogged}table ${t.qname} (`, items.join(',\n'), `)${options};`];
  lines.push(...commentLine(`table ${t.qname}`, t.comment));
  lines.push(...await columnComments(sql, t.oid, t.qname));
  const constraintComments = await sql<{ name: string; comment: string }[]>`
    select quote_ident(c.conname) as name, d.description as comment
      from pg_catalog.pg_constraint c
      join pg_catalog.pg_description d on d.objoid = c.oid and d.classoid = 'pg_catalog.pg_constraint'::regclass
     where c.conrelid = ${t.oid} order by c.conname`;
  lines.push(...constraintComments.flatMap((c) => commentLine(`constraint ${c.name} on ${t.qname}`, c.comment)));
  if (t.rls) lines.push(`alter table ${t.qname} enable row level security;`);
  if (t.forcerls) lines.push(`alter table ${t.qname} force row level security;`);
  lines.push(...await indexLines(sql, t.oid));

  const triggers = await sql<{ name: string; def: string; enabled: string; comment: string | null }[]>`
    select quote_ident(g.tgname) as name, pg_catalog.pg_get_triggerdef(g.oid, true) as def, g.tgenabled as enabled,
           pg_catalog.obj_description(g.oid, 'pg_trigger') as comment
      from pg_catalog.pg_trigger g
     where g.tgrelid = ${t.oid} and not g.tgisinternal
     order by g.tgname`;
  for (const g of triggers) {
    lines.push(`${g.def};`);
    if (g.enabled === 'D') lines.push(`alter table ${t.qname} disable trigger ${g.name};`);
    else if (g.enabled === 'R') lines.push(`alter table ${t.qname} enable replica trigger ${g.name};`);
    else if (g.enabled === 'A') lines.push(`alter table ${t.qname} enable always trigger ${g.name};`);
    lines.push(...commentLine(`trigger ${g.name} on ${t.qname}`, g.comment));
  }

  const policies = await sql<{ name: string; permissive: boolean; cmd: string; roles: string[]; qual: string | null;
                               check: string | null; comment: string | null }[]>`
    select quote_ident(p.polname) as name, p.polpermissive as permissive, p.polcmd as cmd,
           array(select case when r = 0 then 'public' else quote_ident(pg_catalog.pg_get_userbyid(r)) end
                   from unnest(p.polroles) r order by 1) as roles,
           pg_catalog.pg_get_expr(p.polqual, p.polrelid) as qual,
           pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check,
           pg_catalog.obj_description(p.oid, 'pg_policy') as comment
      from pg_catalog.pg_policy p
     where p.polrelid = ${t.oid}
     order by p.polname`;
  const commands: Record<string, string> = { r: 'select', a: 'insert', w: 'update', d: 'delete', '*': 'all' };
  for (const p of policies) {
    let line = `create policy ${p.name} on ${t.qname} as ${p.permissive ? 'permissive' : 'restrictive'}` +
      ` for ${commands[p.cmd]} to ${p.roles.join(', ')}`;
    if (p.qual !== null) line += `\n  using (${p.qual})`;
    if (p.check !== null) line += `\n  with check (${p.check})`;
    lines.push(line + ';');
    lines.push(...commentLine(`policy ${p.name} on ${t.qname}`, p.comment));
  }

  lines.push(...grantLines('table', t.qname, await aclGrants(sql, 'pg_class', t.oid, 'r')));
  return lines.join('\n');
}

async function columnComments(sql: Sql, oid: number, qname: string): Promise<string[]> {
  const rows = await sql<{ name: string; comment: string }[]>`
    select quote_ident(a.attname) as name, pg_catalog.col_description(a.attrelid, a.attnum) as comment
      from pg_catalog.pg_attribute a
     where a.attrelid = ${oid} and a.attnum > 0 and not a.attisdropped
       and pg_catalog.col_description(a.attrelid, a.attnum) is not null
     order by a.attnum`;
  return rows.flatMap((r) => commentLine(`column ${qname}.${r.name}`, r.comment));
}

/** Indexes that no constraint owns (a primary key's or unique constraint's index is in its definition). */
async function indexLines(sql: Sql, relid: number): Promise<string[]> {
  const rows = await sql<{ def: string; comment: string | null; qname: string }[]>`
    select pg_catalog.pg_get_indexdef(i.indexrelid) as def,
           pg_catalog.obj_description(i.indexrelid, 'pg_class') as comment,
           format('%I.%I', n.nspname, c.relname) as qname
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where i.indrelid = ${relid}
       and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = i.indexrelid and k.conrelid = i.indrelid)
     order by c.relname`;
  return rows.flatMap((r) => [`${r.def};`, ...commentLine(`index ${r.qname}`, r.comment)]);
}

/** Every privilege held beyond the owner's own, on the object and (for relations) its columns. */
async function aclGrants(sql: Sql, catalog: 'pg_class' | 'pg_proc' | 'pg_namespace', oid: number, defaultKind: string): Promise<Grant[]> {
  const owner = { pg_class: 'relowner', pg_proc: 'proowner', pg_namespace: 'nspowner' }[catalog];
  const acl = { pg_class: 'relacl', pg_proc: 'proacl', pg_namespace: 'nspacl' }[catalog];
  const rows = await sql<Grant[]>`
    select case when a.grantee = 0 then 'public' else quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end as grantee,
           a.privilege_type as privilege, a.is_grantable as grantable, null::text as column, null::int as attnum
      from pg_catalog.${sql(catalog)} x,
           pg_catalog.aclexplode(coalesce(x.${sql(acl)}, pg_catalog.acldefault(${defaultKind}::"char", x.${sql(owner)}))) a
     where x.oid = ${oid} and a.grantee <> x.${sql(owner)}
    union all
    select case when a.grantee = 0 then 'public' else quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end,
           a.privilege_type, a.is_grantable, quote_ident(c.attname), c.attnum::int
      from pg_catalog.pg_attribute c
      join pg_catalog.pg_class r on r.oid = c.attrelid,
           pg_catalog.aclexplode(c.attacl) a
     where ${catalog === 'pg_class'} and c.attrelid = ${oid} and c.attacl is not null and not c.attisdropped
       and a.grantee <> r.relowner
     order by 1, 2, 5`;
  return [...rows];
}

/** Object kinds this dumper does not render: fail rather than leave them out. */
async function refuseUnsupported(sql: Sql, schemas: string[]): Promise<void> {
  const found = await sql<{ what: string }[]>`
    select format('relation %I.%I of kind %s', n.nspname, c.relname, c.relkind) as what
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any (${schemas}) and c.relkind not in ('r', 'v', 'm', 'S', 'i', 'c', 't')
    union all
    select format('function %I.%I of kind %s', n.nspname, p.proname, p.prokind)
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any (${schemas}) and p.prokind not in ('f', 'p')
    union all
    select format('rule %I on %I.%I', r.rulename, n.nspname, c.relname)
      from pg_catalog.pg_rewrite r
      join pg_catalog.pg_class c on c.oid = r.ev_class join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any (${schemas}) and r.rulename <> '_RETURN'
    union all
    select format('statistics object %I.%I', n.nspname, s.stxname)
      from pg_catalog.pg_statistic_ext s join pg_catalog.pg_namespace n on n.oid = s.stxnamespace
     where n.nspname = any (${schemas})
    union all
    select format('inherited or partitioned table %s', i.inhrelid::regclass)
      from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any (${schemas})
    union all
    select format('event trigger %I', e.evtname) from pg_catalog.pg_event_trigger e
    union all
    select format('publication %I', p.pubname) from pg_catalog.pg_publication p
    order by 1`;
  if (found.length) {
    throw new Error(`dump-schema cannot render: ${found.map((f) => f.what).join('; ')}. Teach scripts/stack/dump-schema.ts.`);
  }
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/**
 * Builds the migrations into a scratch database on the server at `serverUrl` (the local bootstrap,
 * then `supabase db push`, as every stack does), dumps it and drops it. A scratch database keeps
 * out whatever tests or people added to the stack's own database.
 */
export async function migratedSchema(serverUrl: string): Promise<string> {
  const name = `schema_dump_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    await admin.unsafe(`create database ${name} template template0 encoding 'UTF8'`);
    try {
      await applyBootstrap(url.toString());
      await pushMigrations(url.toString());
      const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        return await dumpSchema(db);
      } finally {
        await db.end();
      }
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
    }
  } finally {
    await admin.end();
  }
}
