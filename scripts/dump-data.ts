// `npm run db:dump-data -- --db-url URL --out FILE [--note TEXT]…`: the data of a database (every
// table of `public`, and `auth.users`) as a data-only dump in pg_dump's COPY form, for an upgrade
// fixture (test/fixtures/upgrade) or to move a database's rows onto a rebuilt schema
// (scripts/upgrade/data-restore.ts says how they are read back).
import { writeFile } from 'node:fs/promises';
import { cliArgs } from './lib/cli-args.ts';
import { dumpData } from './upgrade/data-dump.ts';
import { dumpCounts, parseDump } from './upgrade/data-restore.ts';

const USAGE = [
  'usage: npm run db:dump-data -- --db-url URL --out FILE [--note TEXT]...',
  '  --db-url URL   the database to read (as its owner)',
  '  --out FILE     where to write the dump',
  '  --note TEXT    a comment line at the top of the file (repeatable)',
  '  -h, --help     print this help',
].join('\n');
const { values } = cliArgs('db:dump-data', USAGE, process.argv.slice(2), {
  allowPositionals: false,
  options: { 'db-url': { type: 'string' }, out: { type: 'string' }, note: { type: 'string', multiple: true } },
});
if (!values['db-url'] || !values.out) {
  process.stderr.write(`db:dump-data: give --db-url and --out\n${USAGE}\n`);
  process.exit(2);
}
const text = await dumpData(values['db-url'], values.note ?? []);
await writeFile(values.out, text);
// Read back as a restore reads it, so a dump that would not load is known now.
const counts = Object.entries(dumpCounts(parseDump(text))).filter(([, n]) => n > 0);
console.log(`wrote ${values.out}: ${counts.map(([t, n]) => `${t} ${n}`).join(', ')}`);
