// `npm run test:fuzz`: the fuzz suite alone, with FUZZ_RUNS cases per route (2,000 by default here).
import { defineConfig } from 'vitest/config';

process.env.FUZZ_RUNS ??= '2000';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    include: ['test/reliability/fuzz.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
