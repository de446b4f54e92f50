// `npm run db:restore-data -- --db-url URL --dump FILE [--through VERSION]`: loads a data-only dump
// (`npm run db:dump-data`, or pg_dump's COPY form) into a database, as pg_restore would (triggers
// off: counters and events come with the rows). With --through, first applies the migrations up to
// that version (`supabase db push` on them alone), the schema the dump's rows are read into; then
// `npx supabase db push` applies the rest. When: supabase/migrations/README.md, "Upgrades, and
// their tests".
import { readFile } from 'node:fs/promises';
import { cliArgs } from './lib/cli-args.ts';
import { pushMigrations } from './stack/migrate.ts';
import { dumpCounts, parseDump, restoreData } from './upgrade/data-restore.ts';

const USAGE = [
  'usage: npm run db:restore-data -- --db-url URL --dump FILE [--through VERSION]',
  '  --db-url URL       the database to load into (as its owner), empty of data',
  '  --dump FILE        the data-only dump',
  '  --through VERSION  first apply the migrations up to this one (e.g. 20261126000410)',
  '  -h, --help         print this help',
].join('\n');
const { values } = cliArgs('db:restore-data', USAGE, process.argv.slice(2), {
  allowPositionals: false,
  options: { 'db-url': { type: 'string' }, dump: { type: 'string' }, through: { type: 'string' } },
});
if (!values['db-url'] || !values.dump) {
  process.stderr.write(`db:restore-data: give --db-url and --dump\n${USAGE}\n`);
  process.exit(2);
}
const dump = parseDump(await readFile(values.dump, 'utf8'));
if (values.through) process.stdout.write(await pushMigrations(values['db-url'], { through: values.through }));
await restoreData(values['db-url'], dump);
const counts = Object.entries(dumpCounts(dump)).filter(([, n]) => n > 0);
console.log(`restored ${counts.map(([t, n]) => `${t} ${n}`).join(', ')}`);
