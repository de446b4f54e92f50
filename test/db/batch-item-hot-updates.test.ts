// A heartbeat changes only columns no index of batch_items reads (lease_expires_at, updated_at),
// so where its page has room it is a HOT update that writes no index entry. The table keeps room
// (fillfactor); the claim just before has used some of it, so not every heartbeat finds room, but
// without it almost none does. Counted with the backend's own statistics, which are exact
// (pg_stat_get_xact_tuples_hot_updated).
import { describe, expect, it } from 'vitest';
import { API_ROLE, asRole } from '../support/db.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';
import { newUser } from '../support/users.ts';

const ITEMS = 400;

/** A batch of ITEMS items with geometries (rows of a realistic size), all claimed by one runner. */
async function claimedBatch(userId: string): Promise<string[]> {
  const batchId = await asRole(API_ROLE, userId, async (tx) => {
    const [b] = await tx`insert into public.batch_jobs (name) values ('hot') returning id`;
    const molecules = await tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      select 'CCO', k, 'C2H6O', 'CCO', 9 from unnest(${Array.from({ length: ITEMS }, fakeInchikey)}::text[]) as k
      returning id`;
    await tx`
      insert into public.batch_items (batch_job_id, molecule_id, input_geometry)
      select ${b.id}, m, (select jsonb_agg(jsonb_build_object('element', 'C', 'xyz', jsonb_build_array(a, a * 0.5, a * 0.25)))
                            from generate_series(1, 9) as a)
        from unnest(${molecules.map((m) => m.id)}::uuid[]) as m`;
    return b.id as string;
  });
  const claimed: string[] = [];
  // A claim takes at most 100 items; each is its own transaction, as a runner's claims are.
  for (let k = 0; k < ITEMS / 100; k++) {
    const rows = await asRole(API_ROLE, userId, (tx) => tx`
      select item_id from public.claim_batch_items('hot-runner', 100, 300, ${batchId})`);
    claimed.push(...rows.map((r) => r.item_id as string));
  }
  expect(claimed).toHaveLength(ITEMS);
  return claimed;
}

describe('batch_items updates', () => {
  it('a heartbeat over just-claimed items finds room for HOT updates', async () => {
    const { id: userId } = await newUser();
    const ids = await claimedBatch(userId);
    // The claim's old versions must be dead to everyone before a page can be pruned, as they are
    // by the time a runner's first heartbeat comes (a third of the lease later).
    const hot = await asRole(API_ROLE, userId, async (tx) => {
      // The backend's counts not yet flushed to the shared statistics: read them before and after.
      const counts = async () => (await tx`
        select pg_stat_get_xact_tuples_updated('public.batch_items'::regclass)::int as updated,
               pg_stat_get_xact_tuples_hot_updated('public.batch_items'::regclass)::int as hot`)[0];
      const before = await counts();
      const [held] = await tx`
        select count(*) filter (where held)::int as n from public.heartbeat_batch_items('hot-runner', ${ids}::uuid[], 300)`;
      expect(held.n).toBe(ITEMS);
      const after = await counts();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
    expect(hot.updated).toBe(ITEMS);
    // Measured here: 119 of 400 with fillfactor 80, 6 of 400 with the default 100 (full pages).
    expect(hot.hot).toBeGreaterThanOrEqual(ITEMS * 0.2);
  });

});
