// CI knows that tests ran, and how many failed, only from the reporter's closing line. A file whose
// beforeAll fails leaves its tests "skipped": the line must still count the file as a failure.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoPath } from '../../scripts/stack/paths.ts';

function runVitest(files: Record<string, string>): { status: number | null; closing: string | undefined } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-reporter-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    writeFileSync(path.join(dir, 'vitest.config.mts'), `export default { test: { include: ['*.test.ts'], reporters: [${JSON.stringify(repoPath('test/support/closing-line-reporter.ts'))}] } };\n`);
    const run = spawnSync(repoPath('node_modules/.bin/vitest'), ['run', '--root', dir, '--config', path.join(dir, 'vitest.config.mts')], { encoding: 'utf8' });
    return { status: run.status, closing: run.stdout.split('\n').find((l) => l.startsWith('tests: ')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the closing line', () => {
  it('counts passing, failing and skipped tests', () => {
    const run = runVitest({
      'a.test.ts': `import { it, expect } from 'vitest';\nit('passes', () => {});\nit('fails', () => expect(1).toBe(2));\nit.skip('skips', () => {});\n`,
    });
    expect(run.closing).toBe('tests: 1 passed, 1 failed, 1 skipped');
    expect(run.status).toBe(1);
  }, 60_000);

  it('counts a file whose beforeAll failed as a failure', () => {
    const run = runVitest({
      'b.test.ts': `import { beforeAll, it } from 'vitest';\nbeforeAll(() => { throw new Error('setup broke'); });\nit('never runs', () => {});\n`,
    });
    expect(run.closing).toBe('tests: 0 passed, 1 failed, 1 skipped');
    expect(run.status).toBe(1);
  }, 60_000);
});
