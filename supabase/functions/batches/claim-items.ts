// POST /batches/claim: up to `limit` items for a runner under a lease, highest priority first, then
// oldest; one call of public.claim_batch_items (one statement, FOR UPDATE SKIP LOCKED), so
// concurrent runners never receive the same item. Expired leases are claimed again there.
import { ClaimRequest, type ClaimedItem, type ClaimResponse } from '../../../shared/contract/batches.ts';
import type { Geometry } from '../../../shared/contract/common.ts';
import { ownerOf, type RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES } from '../_shared/params.ts';

interface ClaimRow {
  item_id: string; batch_id: string; user_id: string; molecule_id: string; canonical_smiles: string;
  name: string | null; charge: number; multiplicity: number; input_geometry: Geometry | null;
  method: ClaimedItem['method']; task: ClaimedItem['task']; solvent: string | null; xtb_args: string[];
  attempt: number; max_attempts: number; lease_expires_at: Date;
}

export async function claimItems(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, ClaimRequest, SMALL_BODY_BYTES);
  const rows = await c.var.db(async (tx) => {
    const claimed = await tx<ClaimRow[]>`
      select * from public.claim_batch_items(
        ${body.runner_id}, ${body.limit}, ${body.lease_seconds}, ${body.batch_id ?? null}::uuid,
        ${body.methods ?? null}::text[], ${ownerOf(c).allUsers})`;
    // Nothing to claim from a named batch: say so if the caller cannot see that batch at all.
    if (claimed.length === 0 && body.batch_id) {
      const [seen] = await tx`select 1 from public.batch_jobs where id = ${body.batch_id}`;
      if (!seen) throw notFound('batch');
    }
    return claimed;
  });

  const response: ClaimResponse = {
    runner_id: body.runner_id,
    items: rows.map((r) => ({
      item_id: r.item_id, batch_id: r.batch_id, user_id: r.user_id, molecule_id: r.molecule_id,
      smiles: r.canonical_smiles, name: r.name, charge: r.charge, multiplicity: r.multiplicity,
      geometry: r.input_geometry, method: r.method, task: r.task, solvent: r.solvent, xtb_args: r.xtb_args,
      attempt: r.attempt, max_attempts: r.max_attempts, lease_expires_at: r.lease_expires_at.toISOString(),
    })),
  };
  return c.json(response, 200);
}
