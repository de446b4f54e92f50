// `npm run backfill:molecule-keys [-- --db-url URL]`: computes molecules.molecule_key for rows written
// without one (see scripts/molecule-keys/backfill.ts). `npm start` runs it after the migrations; on
// a hosted project run it once after `supabase db push`, with the database's URL.
import { cliArgs } from './lib/cli-args.ts';
import { loadStackEnv } from './stack/stack-env.ts';
import { backfillMoleculeKeys, describeBackfill } from './molecule-keys/backfill.ts';

const USAGE = [
  'usage: npm run backfill:molecule-keys -- [--db-url URL]',
  '  --db-url URL   the database (default: SUPABASE_DB_URL, DATABASE_URL, or the running npm start)',
  '  -h, --help     print this help',
].join('\n');
const { values } = cliArgs('backfill:molecule-keys', USAGE, process.argv.slice(2), { options: { 'db-url': { type: 'string' } } });
const dbUrl = values['db-url'] ?? process.env.SUPABASE_DB_URL ?? process.env.DATABASE_URL ?? (await loadStackEnv()).SUPABASE_DB_URL;
if (!dbUrl) {
  process.stderr.write(`backfill:molecule-keys: no database: give --db-url, set SUPABASE_DB_URL, or run npm start\n${USAGE}\n`);
  process.exit(2);
}
const report = await backfillMoleculeKeys(dbUrl);
console.log(describeBackfill(report));
process.exit(report.conflicts.length || report.unidentified.length ? 1 : 0);
