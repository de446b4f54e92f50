// A data-only dump of what users own (every table of `public`, and `auth.users`), in pg_dump's text
// form: `COPY table (columns) FROM stdin;`, the rows in COPY's text format, `\.`; then a
// `setval` per identity sequence. pg_dump itself would do, but none of version 17 installs here
// (see scripts/stack/dump-schema.ts), so the rows come out through the server's own COPY.
//
// Columns are named, so the dump loads into a schema whose tables gained columns; generated
// columns are left out (the target computes them). Rows are ordered by primary key, so two dumps
// of the same data are the same text. psql can load the file as it is; restoreData
// (./data-restore.ts) is what the upgrade tests and an upgrade use.
import postgres from 'postgres';

/** The schemas (and tables) whose rows are the data: the API's tables and the users they belong to. */
const DATA_TABLES = `(n.nspname = 'public' or (n.nspname = 'auth' and c.relname = 'users'))`;

export interface TableInfo { schema: string; name: string; columns: string[]; key: string[] }

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
export const qualified = (t: { schema: string; name: string }) => `${ident(t.schema)}.${ident(t.name)}`;

type Sql = postgres.Sql | postgres.TransactionSql;

export async function dataTables(sql: Sql): Promise<TableInfo[]> {
  return sql.unsafe<TableInfo[]>(`
    select n.nspname as schema, c.relname as name,
           array(select a.attname from pg_catalog.pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                  order by a.attnum)::text[] as columns,
           array(select a.attname from pg_catalog.pg_index i
                   join lateral unnest(i.indkey) with ordinality k(attnum, ord) on true
                   join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
                  where i.indrelid = c.oid and i.indisprimary
                  order by k.ord)::text[] as key
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and ${DATA_TABLES}
     order by n.nspname, c.relname`);
}

/** A table's rows in COPY's text format, one line each, ordered by `order` (column names). */
export async function tableRows(sql: Sql, table: { schema: string; name: string }, columns: string[], order: string[]): Promise<string[]> {
  const stream = await sql.unsafe(`copy (select ${columns.map(ident).join(', ')} from ${qualified(table)}
                                          order by ${order.map(ident).join(', ')}) to stdout`).readable();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? text.replace(/\n$/, '').split('\n') : [];
}

/** Every table's rows and every identity sequence's position, as one text. */
export async function dumpData(dbUrl: string, header: string[] = []): Promise<string> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const out: string[] = [...header.map((l) => `-- ${l}`), ''];
    // One snapshot for every table: the counters and the rows they count agree.
    await sql.begin('isolation level repeatable read read only', async (tx) => {
      for (const t of await dataTables(tx)) {
        out.push(`COPY ${qualified(t)} (${t.columns.map(ident).join(', ')}) FROM stdin;`);
        out.push(...await tableRows(tx, t, t.columns, t.key.length ? t.key : t.columns));
        out.push('\\.', '');
      }
      const sequences = await tx.unsafe<{ seq: string; value: string; called: boolean }[]>(`
        select format('%I.%I', s.schemaname, s.sequencename) as seq, coalesce(s.last_value, s.start_value)::text as value,
               s.last_value is not null as called
          from pg_catalog.pg_sequences s
         where s.schemaname in ('public', 'auth')
         order by 1`);
      for (const s of sequences) out.push(`SELECT pg_catalog.setval('${s.seq}', ${s.value}, ${s.called});`);
    });
    return out.join('\n') + '\n';
  } finally {
    await sql.end();
  }
}
