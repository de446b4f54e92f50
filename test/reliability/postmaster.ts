// Killing the database the hard way, for the fault suites: SIGKILL of the postmaster (no shutdown,
// no checkpoint; the next start runs crash recovery), then a start on the same data directory.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestStack } from '../support/stack.ts';


export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function processGone(pid: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive`);
    await sleep(50);
  }
}

/**
 * SIGKILLs the stack's postmaster, waits for it to go, calls `whileDown` (the outage as clients
 * see it), and starts Postgres again. Returns a timeline of what happened.
 */
export async function killPostmaster(stack: TestStack, whileDown: () => Promise<string | void> = async () => {}): Promise<string[]> {
  const timeline: string[] = [];
  const pid = stack.postgres!.pid()!;
  process.kill(pid, 'SIGKILL');
  timeline.push(`killed postmaster ${pid}`);
  await processGone(pid, 10_000);
  // Orphaned backends notice the postmaster's death and exit; the new postmaster needs them gone.
  await sleep(1500);
  const seen = await whileDown();
  if (seen) timeline.push(seen);
  await stack.postgres!.restart();
  timeline.push(`restarted postmaster ${stack.postgres!.pid()}`);
  return timeline;
}
