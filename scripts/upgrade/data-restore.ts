// Loads a data-only dump (./data-dump.ts, or pg_dump's COPY form) into a database whose schema is
// the one the dump's rows are to be read into: the migrations that precede the first delta written
// after the dump's version (see supabase/migrations/README.md, "Upgrades, and their tests").
//
// As pg_restore does, triggers are off while rows go in (session_replication_role = replica): the
// rows arrive with the counters, events and statuses their triggers already wrote, and must not be
// counted or logged twice. Foreign keys are triggers too, so the order of the tables does not
// matter; check and not-null constraints still hold, and say what the target cannot take.
//
// What the target has that the dump does not:
// - a table the dump has and the target lacks, or a column the dump has and the target lacks
//   (dropped or renamed): refused, naming it. That is an upgrade problem to solve in a migration.
// - a column the target has and the dump lacks takes its default, or the value FOLDED_COLUMNS
//   says (below); a not-null column with neither refuses the load, naming the column.
import postgres from 'postgres';
import { ident, qualified } from './data-dump.ts';

/**
 * Columns that the folded base migrations (…20261126000410) define on tables that the previous
 * version already had, whose value for a row of that version follows from its other columns: the
 * base has no delta that could backfill them, so the restore computes them. SQL over the row's
 * own columns; `table.column` as `schema.table.column`.
 */
export const FOLDED_COLUMNS: Record<string, string> = {
  // Claims ever (batch_items_total_attempts_covers_round: total_attempts >= attempts). The previous
  // version kept every attempt in attempt_history and reset `attempts` on a retry.
  'public.batch_items.total_attempts': 'greatest(attempts, jsonb_array_length(attempt_history))',
};

export interface DumpTable {
  schema: string;
  name: string;
  columns: string[];
  /** The rows in COPY's text format, one line each (without the trailing `\.`). */
  rows: string[];
}

export interface Dump {
  tables: DumpTable[];
  /** `SELECT pg_catalog.setval(…)` statements. */
  setvals: string[];
}

const COPY_LINE = /^COPY ("(?:[^"]|"")+"|\w+)\.("(?:[^"]|"")+"|\w+) \((.*)\) FROM stdin;$/;
const unquote = (name: string) => (name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name);

/** The COPY blocks and setval lines of a dump; comments, SET and blank lines are skipped. */
export function parseDump(text: string): Dump {
  const dump: Dump = { tables: [], setvals: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const copy = COPY_LINE.exec(line);
    if (copy) {
      const table: DumpTable = {
        schema: unquote(copy[1]),
        name: unquote(copy[2]),
        columns: copy[3].split(', ').map(unquote),
        rows: [],
      };
      for (i += 1; lines[i] !== '\\.'; i += 1) {
        if (i >= lines.length) throw new Error(`dump: COPY ${table.schema}.${table.name} has no closing \\.`);
        table.rows.push(lines[i]);
      }
      dump.tables.push(table);
    } else if (/^SELECT pg_catalog\.setval\(/i.test(line)) {
      dump.setvals.push(line);
    } else if (line.trim() && !line.startsWith('--') && !/^SET /i.test(line)) {
      throw new Error(`dump: line ${i + 1} is neither a COPY block nor a setval: ${line.slice(0, 80)}`);
    }
  }
  return dump;
}

/** Rows per table (`schema.table`) in a dump. */
export function dumpCounts(dump: Dump): Record<string, number> {
  return Object.fromEntries(dump.tables.map((t) => [`${t.schema}.${t.name}`, t.rows.length]));
}

/** Loads every table of the dump, in one transaction, as the database's owner. */
export async function restoreData(dbUrl: string, dump: Dump): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      for (const t of dump.tables) await restoreTable(tx, t);
      for (const s of dump.setvals) await tx.unsafe(s);
    });
  } finally {
    await sql.end();
  }
}

async function restoreTable(tx: postgres.TransactionSql, t: DumpTable): Promise<void> {
  const name = `${t.schema}.${t.name}`;
  const target = await tx<{ attname: string; type: string; generated: boolean; required: boolean }[]>`
    select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attgenerated <> '' as generated,
           a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = '' as required
      from pg_catalog.pg_attribute a
     where a.attrelid = to_regclass(${qualified(t)}) and a.attnum > 0 and not a.attisdropped
     order by a.attnum`;
  if (target.length === 0) throw new Error(`restore: the schema has no table ${name}, which the dump holds`);
  const known = new Map(target.map((c) => [c.attname, c]));
  const gone = t.columns.filter((c) => !known.has(c) || known.get(c)!.generated);
  if (gone.length) throw new Error(`restore: ${name} has no column ${gone.join(', ')} (the dump has it): dropped or renamed`);

  const added = target.filter((c) => !c.generated && !t.columns.includes(c.attname));
  const folded = added.filter((c) => FOLDED_COLUMNS[`${name}.${c.attname}`]);
  const missing = added.filter((c) => c.required && !FOLDED_COLUMNS[`${name}.${c.attname}`]);
  if (missing.length) {
    throw new Error(`restore: ${name}.${missing.map((c) => c.attname).join(', ')} is not null without a default, and the dump has no value for it`);
  }

  // Each column travels as a text[] and is read by its type's input function, as COPY reads it;
  // the folded columns are computed from the row's others. (postgres.js cannot report an error
  // that ends a COPY FROM STDIN: the stream would wait for ever, so no COPY here.)
  const into = [...t.columns, ...folded.map((c) => c.attname)].map(ident).join(', ');
  const select = [...t.columns.map(ident), ...folded.map((c) => FOLDED_COLUMNS[`${name}.${c.attname}`])].join(', ');
  const unnest = t.columns.map((_, k) => `$${k + 1}::text[]`).join(', ');
  const typed = t.columns.map((c, k) => `u.c${k}::${known.get(c)!.type} as ${ident(c)}`).join(', ');
  const statement = `insert into ${qualified(t)} (${into}) overriding system value
    select ${select} from (select ${typed} from unnest(${unnest}) as u(${t.columns.map((_, k) => `c${k}`).join(', ')})) r`;
  for (let from = 0; from < t.rows.length; from += RESTORE_BATCH) {
    const fields = t.rows.slice(from, from + RESTORE_BATCH).map((line) => copyFields(line, t.columns.length, name));
    await tx.unsafe(statement, t.columns.map((_, k) => fields.map((f) => f[k])) as never[]);
  }
}

/** Rows per insert statement. */
const RESTORE_BATCH = 1000;

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A line of COPY's text format as its fields: `\N` is null, backslash escapes decoded. */
export function copyFields(line: string, n: number, table: string): (string | null)[] {
  const fields = line.split('\t').map((f) => (f === '\\N' ? null : f.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) =>
    e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16))
      : /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8))
        : ESCAPES[e] ?? e)));
  if (fields.length !== n) throw new Error(`restore: a row of ${table} has ${fields.length} fields, not ${n}: ${line.slice(0, 80)}`);
  return fields;
}
