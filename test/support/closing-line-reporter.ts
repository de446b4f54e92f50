// A vitest reporter that ends the run with one plain line, `tests: N passed, N failed, N skipped`.
// Vitest's own summary is coloured and laid out for people; CI reads this line to tell a run that
// executed tests from one that executed none.
import type { Reporter, TestModule } from 'vitest/node';

export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedInModule = false;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') {
          failed += 1;
          failedInModule = true;
        } else skipped += 1;
      }
      // A file that failed to load, or whose beforeAll failed (its tests then count as skipped),
      // has no failed test to count, but it is a failure all the same.
      if (module.state() === 'failed' && !failedInModule) failed += 1;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
