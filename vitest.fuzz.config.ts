// `npm run test:fuzz`: the fuzz suite alone, with FUZZ_RUNS cases per route (5,000 by default here;
// CI runs 2,000 per route as part of `npm test`, a local `npm test` 100).
import { defineConfig } from 'vitest/config';

process.env.FUZZ_RUNS ??= '5000';

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
