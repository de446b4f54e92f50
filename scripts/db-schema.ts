// `npm run db:schema`: writes supabase/schema.sql, the schema the migrations build, from a private
// embedded PostgreSQL on a free port in a fresh /tmp folder (removed afterwards). With
// SUPABASE_DB_URL or DATABASE_URL set, builds in a scratch database on that server instead.
// `--check` writes nothing and exits 1 when the committed file is stale.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migratedSchema } from './stack/dump-schema.ts';
import { repoPath } from './stack/paths.ts';
import { startPostgres, type RunningPostgres } from './stack/postgres.ts';
import { freePort } from './stack/free-port.ts';

const SCHEMA_FILE = repoPath('supabase/schema.sql');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const external = process.env.SUPABASE_DB_URL || process.env.DATABASE_URL || undefined;
  let pg: RunningPostgres | undefined;
  let tmp: string | undefined;
  try {
    let serverUrl = external;
    if (!serverUrl) {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-schema-'));
      await chmod(tmp, 0o755); // the postgres user must reach the data directory inside
      pg = await startPostgres({ dataDir: path.join(tmp, 'data'), port: await freePort() });
      serverUrl = pg.url;
    }
    const schema = await migratedSchema(serverUrl);
    if (values.check) {
      const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
      if (committed !== schema) {
        console.error('supabase/schema.sql is stale: run `npm run db:schema` and commit the result.');
        process.exitCode = 1;
      } else {
        console.log('supabase/schema.sql is up to date.');
      }
    } else {
      await writeFile(SCHEMA_FILE, schema);
      console.log(`wrote supabase/schema.sql (${schema.split('\n').length - 1} lines)`);
    }
  } finally {
    await pg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
