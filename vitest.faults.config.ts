// `npm run test:faults`: the fault suite alone on its private stack, with 5,000 calculations per
// ingest-stream scenario (FAULT_CALCS overrides).
import { defineConfig } from 'vitest/config';

process.env.FAULT_CALCS ??= '5000';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    include: ['test/reliability/faults.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
