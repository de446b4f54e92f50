// CPU seconds of processes from /proc (Linux): one process (the Deno functions), or the whole
// PostgreSQL server (the postmaster and every backend and worker it started), so a benchmark can
// say which side of a request its time went to.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces), or null when the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) of a process so far. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) throw new Error(`no process ${pid}`);
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/**
 * CPU seconds so far of each child of `parentPid` (a postmaster's backends and workers), by pid.
 * The difference of two snapshots, a child missing from the first counted from zero, is what the
 * server spent between them (children that exited in between are not seen).
 */
export function childCpuSeconds(parentPid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === parentPid) out.set(Number(entry), (Number(f[11]) + Number(f[12])) / TICK);
  }
  return out;
}

/** CPU seconds the children spent from snapshot `before` to `after`. */
export function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, cpu] of after) s += cpu - (before.get(pid) ?? 0);
  return s;
}
