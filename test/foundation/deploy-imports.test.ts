// Keeps deploys safe: every function type-checks under Deno, and its imports are ones that
// `supabase functions deploy --use-api` can follow (relative with an extension, inside the
// repository, or a bare specifier in the import map).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, repoPath } from '../../scripts/stack/paths.ts';
import { DENO_BIN } from '../../scripts/stack/functions.ts';

const run = promisify(execFile);
const functionsDir = repoPath('supabase/functions');
const functions = readdirSync(functionsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
  .map((d) => d.name);
const importMap: Record<string, string> = JSON.parse(readFileSync(repoPath('deno.json'), 'utf8')).imports;

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s*['"]([^'"]+)['"]/g;

function walk(entry: string, seen = new Set<string>(), problems: string[] = []): string[] {
  if (seen.has(entry)) return problems;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('node:') || spec.startsWith('npm:')) continue;
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const target = path.resolve(path.dirname(entry), spec);
      const rel = path.relative(REPO_ROOT, entry);
      if (!path.extname(spec)) problems.push(`${rel}: ${spec} has no extension`);
      else if (path.relative(REPO_ROOT, target).startsWith('..')) problems.push(`${rel}: ${spec} leaves the repository`);
      else if (!existsSync(target)) problems.push(`${rel}: ${spec} does not exist`);
      else walk(target, seen, problems);
    } else {
      const bare = Object.keys(importMap).some((k) => spec === k || (k.endsWith('/') && spec.startsWith(k)));
      if (!bare) problems.push(`${path.relative(REPO_ROOT, entry)}: ${spec} is not in deno.json imports`);
    }
  }
  return problems;
}

describe('functions', () => {
  it('exist and each has a config.toml entry', () => {
    expect(functions).toContain('health');
    const config = readFileSync(repoPath('supabase/config.toml'), 'utf8');
    for (const name of functions) expect(config).toContain(`[functions.${name}]`);
  });

  it.each(functions)('%s: every import can be followed by the deploy', (name) => {
    expect(walk(path.join(functionsDir, name, 'index.ts'))).toEqual([]);
  });

  it('type-check under Deno', async () => {
    const entries = functions.map((f) => path.join('supabase/functions', f, 'index.ts'));
    await run(DENO_BIN, ['check', '--config', 'deno.json', ...entries, 'scripts/stack/functions-router.ts'], { cwd: REPO_ROOT });
  }, 120_000);
});
