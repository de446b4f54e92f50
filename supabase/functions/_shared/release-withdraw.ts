// `force` on the delete routes, for releases: the guard on calculations (migration
// release_functions) refuses to delete or change a calculation a published release holds (409
// naming the release) unless the transaction names a reason, in which case it withdraws the
// release with that reason and lets the change happen. This sets the reason; the rule is SQL's.
import type { Tx } from './db.ts';

export async function withdrawHeldReleases(tx: Tx, reason: string): Promise<void> {
  await tx`select set_config('qf.release_withdraw_reason', ${reason}, true)`;
}
