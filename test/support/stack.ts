// A private stack for tests and benchmarks: embedded Postgres in a fresh /tmp directory (writable
// by the postgres user when we run as root), free ports, and a random JWT secret. Stopped and
// removed afterwards. Global setup starts one for a whole test run (test files reach it with
// inject('stack')); tests that stop or kill parts of a stack start their own.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { newJwtSecret } from '../../scripts/stack/keys.ts';
import { startStack, type Stack } from '../../scripts/stack/stack.ts';
import { freePort } from '../../scripts/stack/free-port.ts';

export { freePort };

export interface TestStack extends Stack {
  dataDir: string;
  destroy(): Promise<void>;
}

export async function startTestStack(functionsEnv: Record<string, string> = {}): Promise<TestStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'qf-test-pg-'));
  // mkdtemp makes 0700; the postgres user must be able to reach the data directory inside.
  await chmod(dataDir, 0o755);
  const stack = await startStack({
    dbUrl: process.env.TEST_DB_URL || undefined,
    dataDir: path.join(dataDir, 'data'),
    dbPort: await freePort(),
    functionsPort: await freePort(),
    jwtSecret: newJwtSecret(),
    // The suite shares 2 cores between two test workers, Postgres and Deno: a request may wait for a
    // connection longer than the hosted default of 1 s without anything being wrong, and a 503
    // database_busy would fail a test of something else. Tests of that answer set their own.
    functionsEnv: { DB_ACQUIRE_TIMEOUT_MS: '15000', ...functionsEnv },
    log: process.env.TEST_STACK_LOG
      ? (source, line) => process.stderr.write(`[${source}] ${line}`)
      : (source, line) => {
          if (source === 'functions' && /error|uncaught/i.test(line)) process.stderr.write(`[functions] ${line}`);
        },
  });
  return {
    ...stack,
    dataDir,
    destroy: async () => {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What global setup hands to every test file. */
export interface StackInfo {
  url: string;
  dbUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}
