// The runner's loop. `concurrency` slots run xtb (and Open Babel); everything else happens beside
// them: a claimed item's directory is made while it waits (stageItem), and its slot is free again
// as soon as its xtb exits, while its outputs are parsed, reported (report.ts) and removed. Leases
// of every item in hand are kept (heartbeat.ts).
// - Claiming ahead: while items take under PREFETCH_BELOW_S each, up to `concurrency` more items
//   are claimed ahead, so a slot never waits for a claim round-trip. With longer items a claim
//   costs little, and nothing is held that a stop would have to wait for.
// - `once`: stop when a claim finds nothing and nothing is in hand (a failure that goes back to
//   pending is claimed again before that, so retries are drained too).
// - otherwise: poll, backing off from 1 s to 30 s while there is no work.
// - `stop` (first signal): claim nothing more; run the items in hand (the running ones and the
//   few claimed ahead) and report them.
// - `kill` (second signal): kill every xtb; report nothing more; the leases expire.
import { QfApiError } from '../../shared/client.ts';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { LeaseKeeper } from './heartbeat.ts';
import { reportItem, type BatchesApi, type ItemOutcome } from './report.ts';
import { discardStaged, NO_TIMES, runItem, stageItem, type ItemRun, type RunItemOptions, type StagedItem } from './run-item.ts';
import type { ItemReport, Tally } from './summary.ts';

export interface LoopOptions {
  api: BatchesApi;
  runnerId: string;
  allUsers: boolean;
  batchId?: string;
  concurrency: number;
  leaseSeconds: number;
  once: boolean;
  item: Omit<RunItemOptions, 'signal' | 'runnerId' | 'onProcessDone' | 'staged'>;
  stop: AbortSignal;
  kill: AbortSignal;
  tally: Tally;
  onItem: (r: ItemReport) => void;
  onNote: (message: string) => void;
  pollMs?: { min: number; max: number };
  heartbeatMs?: number;
  /** Stands in for runItem in tests. */
  runItem?: (item: ClaimedItem, opts: RunItemOptions) => Promise<ItemRun>;
}

/** Claim ahead only while the recent items took less than this many seconds each. */
export const PREFETCH_BELOW_S = 10;

/** The server will not serve this runner (refused key, unknown batch): stop with exit 2. */
export class FatalError extends Error {
  override name = 'FatalError';
}

const isFatal = (err: unknown) => err instanceof QfApiError && err.status >= 400 && err.status < 500 && err.status !== 409 && err.status !== 429;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const aborted = (signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) resolve();
  else signal.addEventListener('abort', () => resolve(), { once: true });
});

interface Queued {
  item: ClaimedItem;
  staged?: Promise<StagedItem>;
}

export async function runLoop(o: LoopOptions): Promise<void> {
  const poll = o.pollMs ?? { min: 1000, max: 30_000 };
  const run = o.runItem ?? runItem;
  // Staging goes with the real runItem; a stand-in gets the bare item.
  const stage = o.runItem ? undefined : (item: ClaimedItem) => stageItem(item, o.item);
  const scope = o.allUsers ? { all_users: true } : {};
  const report = { api: o.api, runnerId: o.runnerId, allUsers: o.allUsers };
  const leases = new LeaseKeeper({
    heartbeat: (req) => o.api.heartbeat(req),
    runnerId: o.runnerId, leaseSeconds: o.leaseSeconds, allUsers: o.allUsers, intervalMs: o.heartbeatMs,
    onError: (err) => {
      o.tally.stats.heartbeats_failed++;
      o.onNote(`heartbeat failed: ${(err as Error).message}`);
    },
  });
  const halt = AbortSignal.any([o.stop, o.kill]);
  const halted = aborted(halt);
  const killed = aborted(o.kill);

  /** Claimed, waiting for a slot (with its directory being made). */
  const queue: Queued[] = [];
  /** Slots running xtb (or obabel) now. */
  let busy = 0;
  /** Items not yet reported: running, or being parsed and posted. */
  const inHand = new Set<Promise<void>>();
  /** Items reported so far: a report may put its item back to pending for another attempt. */
  let reported = 0;
  /** Resolves at the next change (a slot freed, an item reported); taken before looking at the state. */
  let notify!: () => void;
  let changed = new Promise<void>((r) => { notify = r; });
  const poke = () => {
    const n = notify;
    changed = new Promise<void>((r) => { notify = r; });
    n();
  };
  /** Recent slot times (start to xtb's exit), for deciding whether to claim ahead. */
  let recentS: number | null = null;

  const emit = (item: ClaimedItem, outcome: ItemOutcome, result: ItemRun, postS: number) => {
    const r: ItemReport = { item, outcome, times: result.times, postS, warnings: result.kind === 'completed' ? result.warnings : [] };
    o.tally.add(r);
    o.onItem(r);
  };

  /** A queued item that will not run: drop it, clean its directory, report it. */
  const drop = (q: Queued, outcome: ItemOutcome) => {
    const i = queue.indexOf(q);
    if (i >= 0) queue.splice(i, 1);
    leases.remove(q.item.item_id);
    if (q.staged) void discardStaged(q.staged);
    emit(q.item, outcome, { kind: 'abandoned', times: NO_TIMES }, 0);
  };

  const hold = (item: ClaimedItem) => {
    const q: Queued = { item, staged: stage?.(item) };
    q.staged?.catch(() => {}); // a failure shows when the item runs
    queue.push(q);
    leases.add(item.item_id, (reason) => drop(q, { kind: 'lost', reason: `the server says it is no longer held (${reason})` }));
  };

  const start = ({ item, staged }: Queued) => {
    busy++;
    const ctl = new AbortController();
    const onKill = () => ctl.abort();
    o.kill.addEventListener('abort', onKill, { once: true });
    let lostReason: string | undefined;
    leases.add(item.item_id, (reason) => {
      lostReason = `the server says it is no longer held (${reason})`;
      ctl.abort();
    });
    let freed = false;
    const startedAt = performance.now();
    const freeSlot = () => {
      if (freed) return;
      freed = true;
      busy--;
      o.tally.slot(startedAt, performance.now());
      const slotS = (performance.now() - startedAt) / 1000;
      recentS = recentS === null ? slotS : 0.7 * recentS + 0.3 * slotS;
      fillSlots();
      poke();
    };
    const p = (async () => {
      let result: ItemRun;
      try {
        result = await run(item, { ...o.item, runnerId: o.runnerId, signal: ctl.signal, onProcessDone: freeSlot, ...(staged ? { staged } : {}) });
      } catch (err) {
        result = { kind: 'failed', error_class: 'crash', message: `the runner could not run it: ${(err as Error).message}`, times: NO_TIMES };
      } finally {
        freeSlot();
        leases.remove(item.item_id);
        o.kill.removeEventListener('abort', onKill);
      }
      const t = performance.now();
      const outcome = await reportItem(report, item, result, lostReason);
      emit(item, outcome, result, (performance.now() - t) / 1000);
    })();
    inHand.add(p);
    const settled = () => {
      inHand.delete(p);
      reported++;
      poke();
    };
    p.then(settled, (err) => {
      o.onNote(`internal error on item ${item.item_id}: ${(err as Error)?.message ?? err}`);
      settled();
    });
  };

  function fillSlots() {
    while (queue.length && busy < o.concurrency && !o.kill.aborted) start(queue.shift()!);
  }

  let backoff = poll.min;
  try {
    while (!halt.aborted) {
      const next = changed;
      fillSlots();
      const ahead = recentS !== null && recentS < PREFETCH_BELOW_S ? o.concurrency : 0;
      const want = o.concurrency + ahead - busy - queue.length;
      if (want <= 0) {
        await Promise.race([next, halted]);
        continue;
      }
      let items: ClaimedItem[];
      const t = performance.now();
      const reportedBefore = reported;
      try {
        const res = await o.api.claim({
          runner_id: o.runnerId, limit: want, lease_seconds: o.leaseSeconds,
          ...(o.batchId ? { batch_id: o.batchId } : {}), ...scope,
        });
        items = res.items;
      } catch (err) {
        if (isFatal(err)) throw new FatalError(`claim refused (HTTP ${(err as QfApiError).status}): ${(err as Error).message}`);
        o.onNote(`claim failed: ${(err as Error).message}; trying again in ${(backoff / 1000).toFixed(0)} s`);
        await sleep(backoff, halt);
        backoff = Math.min(backoff * 2, poll.max);
        continue;
      } finally {
        o.tally.claim((performance.now() - t) / 1000);
      }
      // Claimed even if a signal came meanwhile: they are ours now, so they are run, not left to expire.
      items.forEach(hold);
      fillSlots();
      if (items.length > 0) backoff = poll.min;
      if (items.length === want || halt.aborted) continue;
      if (inHand.size === 0 && queue.length === 0) {
        // A report that landed while the claim was in flight may have put its item back to
        // pending after the claim looked: claim again before deciding there is no work.
        if (reported !== reportedBefore) continue;
        if (o.once) break;
        await sleep(backoff, halt);
        backoff = Math.min(backoff * 2, poll.max);
        continue;
      }
      // Nothing more to claim now: wait for a slot or a report (a failure may come back to
      // pending), or, when polling, for the next poll.
      await Promise.race([next, halted, ...(o.once ? [] : [sleep(backoff, halt)])]);
    }
    // Stopping: the items claimed ahead are run too, as slots free up.
    while (queue.length && !o.kill.aborted) {
      const next = changed;
      fillSlots();
      if (queue.length) await Promise.race([next, killed]);
    }
    for (const q of [...queue]) drop(q, { kind: 'stopped' });
    if (o.kill.aborted) {
      // xtb is being killed; give the reports a moment, but do not wait on the network.
      await Promise.race([Promise.allSettled([...inHand]), sleep(2000, new AbortController().signal)]);
    } else {
      while (inHand.size) await Promise.allSettled([...inHand]);
    }
  } finally {
    leases.stop();
  }
}
