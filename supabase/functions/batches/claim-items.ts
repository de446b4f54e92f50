// POST /batches/claim: up to `limit` items for a runner under a lease, highest priority first, then
// oldest; one call of public.claim_batch_items (one statement, FOR UPDATE SKIP LOCKED), so
// concurrent runners never receive the same item. Expired leases are claimed again there.
import type { Context } from 'hono';
import { ClaimRequest, type ClaimedItem, type ClaimResponse } from '../../../shared/contract/batches.ts';
import type { Geometry } from '../../../shared/contract/common.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { notFound } from '../_shared/errors.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { SMALL_BODY_BYTES } from './params.ts';
import { resolveScope } from './scope.ts';

interface ClaimRow {
  item_id: string; batch_id: string; user_id: string; molecule_id: string; canonical_smiles: string;
  name: string | null; charge: number; multiplicity: number; input_geometry: Geometry | null;
  method: ClaimedItem['method']; task: ClaimedItem['task']; solvent: string | null; xtb_args: string[];
  attempt: number; max_attempts: number; lease_expires_at: Date;
}

export function claimItems(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const body = parseOr(ClaimRequest, await readJsonBody(c, SMALL_BODY_BYTES));
    const claims = c.get('claims');
    const scope = resolveScope(claims, body);
    const rows = await withCaller(deps.sql, claims, async (tx) => {
      const claimed = await tx<ClaimRow[]>`
        select * from public.claim_batch_items(
          ${body.runner_id}, ${body.limit}, ${body.lease_seconds}, ${body.batch_id ?? null}::uuid,
          ${body.methods ?? null}::text[], ${scope.allUsers})`;
      // Nothing to claim from a named batch: say so if the caller cannot see that batch at all.
      if (claimed.length === 0 && body.batch_id) {
        const [seen] = await tx`select 1 from public.batch_jobs where id = ${body.batch_id}`;
        if (!seen) throw notFound('batch');
      }
      return claimed;
    }, { actAs: scope.actAs, statementTimeoutMs: deps.env.statementTimeoutMs });

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
  };
}
