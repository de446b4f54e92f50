// What the runner says: one line per item (item, molecule, method, outcome, seconds) and a summary
// at exit, with where the time went: in xtb, in Open Babel, and outside both (claim, files and
// parse, post), the last as a share of the total.
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import type { ItemOutcome } from './report.ts';
import type { ItemTimes } from './run-item.ts';

export interface ItemReport {
  item: ClaimedItem;
  outcome: ItemOutcome;
  times: ItemTimes;
  /** Seconds spent telling the server. */
  postS: number;
  warnings: string[];
}

/** The word the log line and the summary table use for an outcome. */
export function outcomeLabel(o: ItemOutcome): string {
  switch (o.kind) {
    case 'completed': return 'completed';
    case 'failed': return o.errorClass;
    default: return o.kind;
  }
}

function outcomeText(o: ItemOutcome): string {
  switch (o.kind) {
    case 'completed': return 'completed';
    case 'failed': {
      const next = o.status === 'pending' ? 'will be retried' : o.status === 'failed' ? 'failed for good' : 'batch cancelled';
      return `${o.errorClass} (${next}): ${o.message.split('\n')[0].slice(0, 200)}`;
    }
    case 'lost': return `lost: ${o.reason}`;
    case 'stopped': return 'stopped (the lease will expire)';
    case 'not_reported': return `not reported: ${o.reason}`;
  }
}

const molecule = (item: ClaimedItem) => (item.name ? `${item.smiles} (${item.name})` : item.smiles);

export function formatItemLine(r: ItemReport): string {
  const { item } = r;
  const method = `${item.method}/${item.task}${item.solvent ? `/${item.solvent}` : ''}`;
  const attempt = item.attempt > 1 ? ` attempt ${item.attempt}/${item.max_attempts}` : '';
  return `item ${item.item_id} ${molecule(item)} ${method}${attempt}: ${outcomeText(r.outcome)} in ${r.times.totalS.toFixed(2)} s`;
}

export const OUTCOME_ORDER = [
  'completed', 'scf_not_converged', 'opt_not_converged', 'timeout', 'crash', 'invalid_input', 'lost', 'stopped', 'not_reported',
] as const;

/** Totals over the run; also what QF_RUNNER_STATS_FILE receives as JSON. */
export interface RunnerStats {
  runner_id: string;
  concurrency: number;
  wall_s: number;
  /** From start to the first claim: arguments, the xtb and obabel checks, the health preflight. */
  startup_s: number;
  /** In the claim loop: wall_s − startup_s. */
  loop_s: number;
  items: number;
  counts: Record<string, number>;
  /** Failures that went back to pending (retried later) vs failed for good. */
  retried: number;
  failed_for_good: number;
  claims: number;
  claim_s: number;
  geometry_s: number;
  xtb_s: number;
  /** Of xtb_s: starting the xtb processes (spawn call to running). */
  spawn_s: number;
  /** Temp dirs, files, parse and classification. */
  local_s: number;
  /** Of local_s: directories and files (write inputs, read outputs, remove). */
  files_s: number;
  /** Of local_s: parsing the outputs, classifying failures, hashing files for provenance. */
  parse_s: number;
  post_s: number;
  heartbeats_failed: number;
  /**
   * From the first slot's start to the last slot's end (xtb's exit): the steady part of the loop,
   * without filling the pipeline (the first claim) and draining it (the last parse and post).
   */
  slot_span_s: number;
}

export class Tally {
  readonly stats: RunnerStats;

  constructor(runnerId: string, concurrency: number) {
    this.stats = {
      runner_id: runnerId, concurrency, wall_s: 0, startup_s: 0, loop_s: 0, items: 0,
      counts: Object.fromEntries(OUTCOME_ORDER.map((k) => [k, 0])),
      retried: 0, failed_for_good: 0, claims: 0, claim_s: 0, geometry_s: 0, xtb_s: 0, spawn_s: 0, local_s: 0, files_s: 0, parse_s: 0, post_s: 0, heartbeats_failed: 0, slot_span_s: 0,
    };
  }

  private firstSlotAt = Infinity;

  /** A slot was used from `startedAt` to `endedAt` (performance.now() ms). */
  slot(startedAt: number, endedAt: number): void {
    this.firstSlotAt = Math.min(this.firstSlotAt, startedAt);
    this.stats.slot_span_s = Math.max(this.stats.slot_span_s, (endedAt - this.firstSlotAt) / 1000);
  }

  claim(seconds: number): void {
    this.stats.claims++;
    this.stats.claim_s += seconds;
  }

  add(r: ItemReport): void {
    const s = this.stats;
    s.items++;
    s.counts[outcomeLabel(r.outcome)] = (s.counts[outcomeLabel(r.outcome)] ?? 0) + 1;
    if (r.outcome.kind === 'failed') {
      if (r.outcome.status === 'pending') s.retried++;
      else if (r.outcome.status === 'failed') s.failed_for_good++;
    }
    s.geometry_s += r.times.geometryS;
    s.xtb_s += r.times.xtbS;
    s.spawn_s += r.times.spawnS;
    s.local_s += r.times.localS;
    s.files_s += r.times.filesS;
    s.parse_s += r.times.parseS;
    s.post_s += r.postS;
  }

  /** Share of the slots' time in the loop (loop_s × concurrency) when no xtb or obabel ran in them, 0–1. */
  get idleShare(): number {
    const s = this.stats;
    const slotS = s.loop_s * s.concurrency;
    return slotS > 0 ? Math.max(0, 1 - (s.xtb_s + s.geometry_s) / slotS) : 0;
  }
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));
const lpad = (s: string, n: number) => ' '.repeat(Math.max(0, n - s.length)) + s;

export function formatSummary(t: Tally, stopped?: string): string {
  const s = t.stats;
  const lines = [`runner summary (${s.runner_id}, ${s.concurrency} at once)`, ''];
  lines.push(`${pad('outcome', 20)}${lpad('items', 8)}`);
  for (const name of OUTCOME_ORDER) if (s.counts[name] || name === 'completed') lines.push(`${pad(name, 20)}${lpad(String(s.counts[name]), 8)}`);
  lines.push(`${pad('total', 20)}${lpad(String(s.items), 8)}`, '');
  if (s.retried || s.failed_for_good) lines.push(`failures: ${s.retried} went back to pending for another attempt, ${s.failed_for_good} failed for good`);
  lines.push(
    `time in xtb ${s.xtb_s.toFixed(1)} s, in obabel ${s.geometry_s.toFixed(1)} s; outside them (mostly beside other items' xtb runs): ` +
    `claim ${s.claim_s.toFixed(1)} s in ${s.claims} calls, files ${s.files_s.toFixed(1)} s, parse ${s.parse_s.toFixed(1)} s, ` +
    `post ${s.post_s.toFixed(1)} s; starting xtb ${s.spawn_s.toFixed(1)} s (within its time)`,
    `slot time outside xtb and obabel: ${(100 * t.idleShare).toFixed(1)}% of ${s.concurrency} × ${s.loop_s.toFixed(1)} s ` +
    `(after ${s.startup_s.toFixed(1)} s of start-up checks)`,
  );
  if (s.heartbeats_failed) lines.push(`${s.heartbeats_failed} heartbeats failed (network); leases were renewed by later ones or expired`);
  if (stopped) lines.push(stopped);
  const perMin = s.wall_s > 0 ? (60 * s.items) / s.wall_s : 0;
  lines.push(`${s.items} items in ${s.wall_s.toFixed(1)} s (${perMin.toFixed(0)} per minute)`);
  return lines.join('\n') + '\n';
}
