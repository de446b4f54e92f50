// The claim's plan, read from inside claim_batch_items with auto_explain (with actual row counts):
// a user's claim walks that user's batch_items_user_id_claim_order_idx; an all-users claim finds
// the users with waiting items by a loose scan of the same index and walks it once per user, in
// turns. Neither reads more than a handful of the 4,000 waiting items, nor any other index of
// batch_items, and both keep so on every call: the session asks for generic plans
// (plan_cache_mode = force_generic_plan, what PostgreSQL may choose by itself after five calls),
// and the function's own setting must overrule it. Everything happens in one transaction that is rolled back: the items, the ANALYZE
// and the claims are never seen by other tests.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { actAs, API_ROLE } from '../support/db.ts';
import { newUser } from '../support/users.ts';

const ITEMS_PER_USER = 2_000;
const CALLS = 8;
const LIMIT = 5;
// A method no other test's batches use, for the all-users claims: they (rolled back, but holding
// their locks until then) take only this test's items, never those other test files have waiting
// meanwhile. A user's claim touches only its own items and runs unfiltered.
const METHOD = 'GFN-FF';
const CLAIM_INDEX = 'batch_items_user_id_claim_order_idx';
// Besides the claim order, only the row look-ups by key (the lock and the update) may touch batch_items.
const KEY_LOOKUPS = ['batch_items_pkey', 'batch_items_user_id_id_key'];

/**
 * Every node that read batch_items (nodes never executed are left out): how (the index, or a scan
 * kind) and its actual rows per loop. An index walk may show as an Index Scan or an Index Only
 * Scan, as the visibility map of the moment makes one or the other cheaper: both count.
 */
function itemReads(plan: string): { how: string; rows: number }[] {
  return [...plan.matchAll(/(\w[\w ]*Scan)(?: using (\w+))? on batch_items\b[^\n]*\(actual (?:time=[\d.]+\.\.[\d.]+ )?rows=([\d.]+)/g)]
    .map((m) => ({ how: m[2] ?? m[1], rows: Number(m[3]) }));
}
const claimOrderReads = (plan: string) => itemReads(plan).filter((r) => r.how === CLAIM_INDEX).length;

const notices: string[] = [];
const sql = postgres(inject('stack').dbUrl, { max: 1, onnotice: (n) => notices.push(String(n.message)) });
afterAll(() => sql.end());

class Rollback extends Error {}

/**
 * Inside `tx`, as the functions run a request: a user's (`sub`) as the functions' role with that
 * user's claims, or the service role across users.
 */
const runAs = (tx: postgres.TransactionSql, sub?: string): Promise<void> => actAs(tx, sub ? API_ROLE : 'service_role', sub);

/** A batch of `n` pending items of one molecule for `userId`, created with create_batch. */
async function createBatch(tx: postgres.TransactionSql, userId: string, n: number): Promise<void> {
  await runAs(tx, userId);
  const molecules = [{
    molecule_key: 'XLYOFNOQVPJJNP-UHFFFAOYNA-N', inchikey: 'XLYOFNOQVPJJNP-UHFFFAOYSA-N', canonical_smiles: 'O', formula: 'H2O',
    name: 'water', input_smiles: 'O', n_atoms: 3,
  }];
  const items = Array.from({ length: n }, (_, idx) => ({ idx, molecule_key: molecules[0].molecule_key, charge: 0, multiplicity: 1 }));
  await tx`select * from public.create_batch(${tx.json({ name: `plan ${userId.slice(0, 8)}`, method: METHOD, task: 'sp', max_attempts: 3, priority: 0 })}, ${tx.json(molecules)}, ${tx.json(items)})`;
  await tx`reset role`;
}

/** The plans of the claim statement over `CALLS` calls in one session, one mode. */
async function claimPlans(tx: postgres.TransactionSql, mode: 'user' | 'all_users', userId: string): Promise<string[]> {
  notices.length = 0;
  if (mode === 'user') await runAs(tx, userId);
  else await runAs(tx);
  for (let call = 0; call < CALLS; call += 1) {
    const rows = await tx`select item_id from public.claim_batch_items(${`plan-${randomUUID()}`}, ${LIMIT}, 60, null, ${mode === 'all_users' ? [METHOD] : null}::text[], ${mode === 'all_users'})`;
    expect(rows.length).toBe(LIMIT);
  }
  await tx`reset role`;
  return notices.filter((n) => n.includes('Query Text:') && n.includes('with recursive waiting'));
}

describe('claim_batch_items plan', () => {
  it('walks each served user\'s claim order, never the queue, on every call', async () => {
    const busy = await newUser();
    const quiet = await newUser();
    let plans: { user: string[]; allUsers: string[] } | undefined;
    await sql.begin(async (tx) => {
      await createBatch(tx, busy.id, ITEMS_PER_USER);
      await createBatch(tx, quiet.id, ITEMS_PER_USER);
      await tx`analyze public.batch_items, public.batch_jobs`;
      await tx`load 'auto_explain'`;
      await tx`select set_config('auto_explain.log_min_duration', '0', true),
                      set_config('auto_explain.log_nested_statements', 'on', true),
                      set_config('auto_explain.log_level', 'notice', true),
                      set_config('auto_explain.log_analyze', 'on', true),
                      set_config('auto_explain.log_timing', 'off', true),
                      set_config('plan_cache_mode', 'force_generic_plan', true)`;
      plans = { user: await claimPlans(tx, 'user', quiet.id), allUsers: await claimPlans(tx, 'all_users', busy.id) };
      throw new Rollback();
    }).catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });

    expect(plans!.user).toHaveLength(CALLS);
    expect(plans!.allUsers).toHaveLength(CALLS);
    // What is asserted is what was read, not which node the planner preferred: every read of
    // batch_items is the claim-order index (or a row fetched by its key to lock and update it), and
    // no read returns more than a few claims' worth of rows, of the 4,000 waiting. A plan that
    // scanned the queue (a seq scan, a bitmap over a user's backlog, any other index) fails here.
    for (const plan of [...plans!.user, ...plans!.allUsers]) {
      const reads = itemReads(plan);
      expect(reads.length).toBeGreaterThanOrEqual(2);
      for (const read of reads) {
        expect([CLAIM_INDEX, ...KEY_LOOKUPS], read.how).toContain(read.how);
        // A walk per served user stops at its LIMIT (plus the few it claimed before and skips).
        expect(read.rows, `${read.how} rows`).toBeLessThanOrEqual(LIMIT * CALLS);
      }
    }
    for (const plan of plans!.allUsers) {
      expect(plan).toMatch(/Recursive Union/);
      expect(plan).toMatch(/Insert on batch_claim_turns/);
      // The loose scan (its first probe and its step) and at least one user's walk.
      expect(claimOrderReads(plan)).toBeGreaterThanOrEqual(3);
    }
    // A user's claim serves only its caller: its one walk runs, the loose scan never does.
    for (const plan of plans!.user) expect(claimOrderReads(plan)).toBe(1);
  }, 120_000);
});
