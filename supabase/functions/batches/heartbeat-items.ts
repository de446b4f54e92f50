// POST /batches/heartbeat: extends the leases of the items this runner still holds, and tells it
// which it no longer holds (and why), so it can stop that work. Any id the caller cannot see
// (unknown, or another user's) makes the whole request a 404, and nothing is extended.
import { HeartbeatRequest, type HeartbeatResponse, type ItemStatus } from '../../../shared/contract/batches.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { ApiError, ErrorCode } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES } from '../_shared/params.ts';

interface HeartbeatRow {
  item_id: string; held: boolean; status: ItemStatus; claimed_by: string | null; lease_expires_at: Date | null;
}

type LostReason = HeartbeatResponse['lost'][number]['reason'];

function lostReason(row: HeartbeatRow): LostReason {
  switch (row.status) {
    case 'claimed': return 'claimed_by_another_runner';
    case 'completed': return 'completed';
    case 'failed': return 'failed';
    case 'pending': return 'returned_to_pending';
    case 'cancelled': return 'batch_cancelled';
  }
}

export async function heartbeatItems(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, HeartbeatRequest, SMALL_BODY_BYTES);
  const ids = [...new Set(body.item_ids.map((id) => id.toLowerCase()))];
  const rows = await c.var.db(async (tx) => {
    const found = await tx<HeartbeatRow[]>`
      select * from public.heartbeat_batch_items(${body.runner_id}, ${ids}::uuid[], ${body.lease_seconds}, ${ownerOf(c).allUsers})`;
    if (found.length < ids.length) {
      const seen = new Set(found.map((r) => r.item_id));
      const missing = ids.filter((id) => !seen.has(id));
      // Thrown inside the transaction: the leases extended above are rolled back.
      throw new ApiError(404, ErrorCode.notFound, `${missing.length} batch item(s) not found; no lease was extended`,
        missing.slice(0, 100).map((id) => ({ path: `item_ids[${body.item_ids.findIndex((x) => x.toLowerCase() === id)}]`, issue: `no such batch item ${id}` })));
    }
    return found;
  });

  const response: HeartbeatResponse = { held: [], lost: [] };
  for (const row of rows) {
    if (row.held) response.held.push({ item_id: row.item_id, lease_expires_at: row.lease_expires_at!.toISOString() });
    else response.lost.push({ item_id: row.item_id, status: row.status, reason: lostReason(row) });
  }
  return c.json(response, 200);
}
