// supabase/schema.sql is the schema the migrations build: the committed file equals a fresh dump of
// the migrations applied to a scratch database on this run's server (the same code path as
// `npm run db:schema`). It also shows what hosted Supabase must keep: security_invoker views and
// column-level grants.
import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { migratedSchema } from '../../scripts/stack/dump-schema.ts';
import { repoPath } from '../../scripts/stack/paths.ts';

/** Where two texts first part, with a few lines of each from there. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split('\n');
  const b = fresh.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  const show = (lines: string[]) => lines.slice(i, i + 4).map((l) => `    ${l}`).join('\n') || '    (end of file)';
  return `first difference at line ${i + 1}\n  committed:\n${show(a)}\n  fresh build:\n${show(b)}`;
}

describe('supabase/schema.sql', () => {
  it('equals a fresh dump of the migrations', async () => {
    const fresh = await migratedSchema(inject('stack').dbUrl);
    const committed = await readFile(repoPath('supabase/schema.sql'), 'utf8').catch(() => '(missing)');
    if (committed !== fresh) {
      expect.fail(`supabase/schema.sql is stale: run \`npm run db:schema\` and commit it.\n${firstDifference(committed, fresh)}`);
    }

    // What hosted projects rely on is visible in it.
    const views = [...fresh.matchAll(/^create (?:materialized )?view (\S+)(.*) as$/gm)];
    expect(views.length).toBeGreaterThan(0);
    expect(views.filter((v) => !v[2].includes('security_invoker=true')).map((v) => v[1])).toEqual([]);
    expect(fresh).toMatch(/^grant insert \([^)]*\bxtb_args\b[^)]*\) on table public\.batch_jobs to qf_api, service_role;$/m);
  }, 120_000);
});
