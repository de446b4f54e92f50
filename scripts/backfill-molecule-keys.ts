// `npm run backfill:molecule-keys [-- --db-url URL]`: computes molecules.molecule_key for rows written
// before it existed (see scripts/molecule-keys/backfill.ts). `npm start` runs it after the
// migrations; on a hosted project run it once after `supabase db push`, with the database's URL.
import { parseArgs } from 'node:util';
import { loadStackEnv } from './stack/stack-env.ts';
import { backfillMoleculeKeys, describeBackfill } from './molecule-keys/backfill.ts';

const { values } = parseArgs({ options: { 'db-url': { type: 'string' } } });
const dbUrl = values['db-url'] ?? process.env.SUPABASE_DB_URL ?? process.env.DATABASE_URL ?? (await loadStackEnv()).SUPABASE_DB_URL;
if (!dbUrl) {
  console.error('usage: npm run backfill:molecule-keys -- --db-url postgresql://… (or SUPABASE_DB_URL, or a running npm start)');
  process.exit(2);
}
const report = await backfillMoleculeKeys(dbUrl);
console.log(describeBackfill(report));
process.exit(report.conflicts.length || report.unidentified.length ? 1 : 0);
