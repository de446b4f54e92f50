// Supabase's own linter (splinter, through `supabase db advisors`) finds nothing at WARN or ERROR
// level in what the migrations create, and `supabase migration list` shows every migration applied.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { cliDbUrl, supabaseCli } from '../../scripts/stack/migrate.ts';
import { repoPath } from '../../scripts/stack/paths.ts';

interface Lint {
  name: string;
  level: 'INFO' | 'WARN' | 'ERROR';
  detail: string;
  metadata?: { schema?: string; name?: string };
}

async function migrationFiles(): Promise<string[]> {
  return (await readdir(repoPath('supabase/migrations'))).filter((f) => /^\d{14}_.+\.sql$/.test(f)).sort();
}

/** Names of the public objects the migrations create (tests may add others to the shared database). */
async function objectsFromMigrations(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of await migrationFiles()) {
    const text = await readFile(repoPath('supabase/migrations', file), 'utf8');
    const created = /create\s+(?:or\s+replace\s+)?(?:table|view|materialized\s+view|function|type|sequence)\s+public\.(\w+)/gi;
    for (const m of text.matchAll(created)) names.add(m[1]);
  }
  return names;
}

describe('supabase db advisors', () => {
  it('reports nothing at WARN or ERROR level for the objects the migrations create', async () => {
    const out = await supabaseCli([
      'db', 'advisors', '--db-url', cliDbUrl(inject('stack').dbUrl), '--type', 'all', '--level', 'info', '--output-format', 'json',
    ]);
    const json = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { results: Lint[] };
    expect(Array.isArray(json.results)).toBe(true);

    const ours = await objectsFromMigrations();
    expect(ours.has('calculations')).toBe(true);
    const findings = json.results.filter((lint) =>
      lint.level !== 'INFO' && (lint.metadata?.schema !== 'public' || ours.has(lint.metadata?.name ?? '')));
    expect(findings.map((l) => `${l.level} ${l.name}: ${l.detail}`)).toEqual([]);

    // Informational lints we act on too: every foreign key is covered by an index.
    const unindexed = json.results.filter((l) => l.name === 'unindexed_foreign_keys' && ours.has(l.metadata?.name ?? ''));
    expect(unindexed.map((l) => l.detail)).toEqual([]);
  }, 120_000);
});

describe('supabase migration list', () => {
  it('shows every local migration applied to the database', async () => {
    const out = await supabaseCli(['migration', 'list', '--db-url', cliDbUrl(inject('stack').dbUrl)]);
    for (const file of await migrationFiles()) {
      const version = file.slice(0, 14);
      // Rows read "`local` | `remote` | time": both columns carry the version once it is applied.
      expect(out, version).toMatch(new RegExp(`\`?${version}\`?\\s*\\|\\s*\`?${version}\`?\\s*\\|`));
    }
  }, 120_000);
});
