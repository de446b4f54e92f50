// `npm run test:faults`: the fault suites alone, with 5,000 calculations per ingest-stream scenario
// (FAULT_CALCS overrides) and 2,000 jobs in the upload scenario (FAULT_JOBS). The database-killing
// suites start private stacks; the killed runner uses the shared one.
import { defineConfig } from 'vitest/config';

process.env.FAULT_CALCS ??= '5000';
process.env.FAULT_JOBS ??= '2000';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    include: ['test/reliability/faults*.test.ts', 'test/reliability/runner-killed.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
