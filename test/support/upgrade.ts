// Upgrade tests: a database as an earlier version left it, on a private embedded PostgreSQL. The
// fixture (test/fixtures/upgrade/<name>: data.sql, written by scripts/upgrade/make-fixture.sh from a
// stack of that version, and fixture.json) is restored into the schema of the migrations through
// `restore_through`, the last one that version's rows are read into; the test then applies the
// rest as an upgrade does and checks the result (supabase/migrations/README.md, "Upgrades, and
// their tests").
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { applyBootstrap, pushMigrations } from '../../scripts/stack/migrate.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { startPostgres, type RunningPostgres } from '../../scripts/stack/postgres.ts';
import { dumpCounts, parseDump, restoreData, type Dump } from '../../scripts/upgrade/data-restore.ts';
import { freePort } from './stack.ts';

export interface UpgradeFixture {
  /** The commit whose stack wrote the data. */
  commit: string;
  /** The version of the last migration whose schema the data is restored into. */
  restore_through: string;
}

export interface RestoredDatabase {
  fixture: UpgradeFixture;
  dump: Dump;
  /** Rows per table (`schema.table`) in the dump. */
  dumpCounts: Record<string, number>;
  dbUrl: string;
  /** The owner's connection (bypasses RLS). */
  sql: postgres.Sql;
  /** Rows per table of the dump, as the database holds them now. */
  counts(): Promise<Record<string, number>>;
  destroy(): Promise<void>;
}

export async function restoredDatabase(name: string): Promise<RestoredDatabase> {
  const dir = repoPath('test/fixtures/upgrade', name);
  const fixture = JSON.parse(await readFile(path.join(dir, 'fixture.json'), 'utf8')) as UpgradeFixture;
  const dump = parseDump(await readFile(path.join(dir, 'data.sql'), 'utf8'));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-upgrade-pg-'));
  await chmod(tmp, 0o755); // the postgres user must reach the data directory inside
  let pg: RunningPostgres | undefined;
  try {
    pg = await startPostgres({ dataDir: path.join(tmp, 'data'), port: await freePort() });
    await applyBootstrap(pg.url);
    await pushMigrations(pg.url, { through: fixture.restore_through });
    await restoreData(pg.url, dump);
  } catch (err) {
    await pg?.stop();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const running = pg;
  return {
    fixture,
    dump,
    dumpCounts: dumpCounts(dump),
    dbUrl: pg.url,
    sql,
    counts: async () => {
      const rows = await Promise.all(dump.tables.map(async (t) => {
        const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(t.schema)}.${sql(t.name)}`;
        return [`${t.schema}.${t.name}`, n] as const;
      }));
      return Object.fromEntries(rows);
    },
    destroy: async () => {
      await sql.end();
      await running.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
