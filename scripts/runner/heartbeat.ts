// Keeps the leases of the items in flight: one heartbeat for all of them every third of the lease.
// An item the server says is no longer held (another runner has it, the batch was cancelled, it
// went back to pending) is handed to its `onLost`, which kills that xtb. A heartbeat that fails
// (network) is only logged: the lease still has two thirds to run, and the next one may get through.
import type { HeartbeatRequest, HeartbeatResponse } from '../../shared/contract/batches.ts';

export type HeartbeatFn = (req: HeartbeatRequest) => Promise<HeartbeatResponse>;

export interface LeaseKeeperOptions {
  heartbeat: HeartbeatFn;
  runnerId: string;
  leaseSeconds: number;
  allUsers: boolean;
  /** Default: a third of the lease. */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export class LeaseKeeper {
  private readonly held = new Map<string, (reason: string) => void>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(private readonly opts: LeaseKeeperOptions) {}

  get intervalMs(): number {
    return this.opts.intervalMs ?? Math.floor((this.opts.leaseSeconds * 1000) / 3);
  }

  add(itemId: string, onLost: (reason: string) => void): void {
    this.held.set(itemId, onLost);
    this.timer ??= setInterval(() => void this.beat(), this.intervalMs);
  }

  remove(itemId: string): void {
    this.held.delete(itemId);
    if (this.held.size === 0) this.stopTimer();
  }

  /** One heartbeat now for every item held (skipped if one is already on its way). */
  beat(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    this.beating ??= this.send().finally(() => { this.beating = undefined; });
    return this.beating;
  }

  stop(): void {
    this.held.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async send(): Promise<void> {
    const ids = [...this.held.keys()];
    let res: HeartbeatResponse;
    try {
      res = await this.opts.heartbeat({
        runner_id: this.opts.runnerId,
        item_ids: ids,
        lease_seconds: this.opts.leaseSeconds,
        ...(this.opts.allUsers ? { all_users: true } : {}),
      });
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    for (const lost of res.lost) {
      const onLost = this.held.get(lost.item_id);
      if (!onLost) continue;
      this.held.delete(lost.item_id);
      onLost(lost.reason);
    }
    if (this.held.size === 0) this.stopTimer();
  }
}
