// A long-running tool started as `npm start` runs as npm → (sh →) tsx → node. A SIGTERM sent to npm
// alone (what a process manager, a CI step's timeout or `kill <pid of npm>` sends) makes npm exit
// at once without passing the signal on: tsx and this process were re-parented and kept Deno
// and Postgres running, with nobody left to stop them. So the tool also stops when one of the
// processes that launched it is gone, which it sees as a change of their parent in /proc.
import { readFileSync } from 'node:fs';

/** The parent of `pid`, from /proc (Linux); undefined when the process is gone or /proc is absent. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 is the command name in parentheses and may hold spaces: read after its last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onExit` once when one of the three processes above this one is gone: tsx, the shell npm
 * runs scripts with (some npm versions leave it in between) and npm; started another way, the
 * shells above. Nothing is watched where /proc is absent.
 */
export function whenLauncherExits(onExit: () => void, intervalMs = 1000): void {
  const chain: Array<[pid: number, parent: number]> = [];
  let pid = process.pid;
  for (let level = 0; level < 3; level++) {
    const parent = parentOf(pid);
    if (parent === undefined || parent <= 1) break;
    chain.push([pid, parent]);
    pid = parent;
  }
  if (chain.length === 0) return;
  const timer = setInterval(() => {
    if (chain.some(([child, parent]) => parentOf(child) !== parent)) {
      clearInterval(timer);
      onExit();
    }
  }, intervalMs);
  timer.unref();
}
