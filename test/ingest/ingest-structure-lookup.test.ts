// The same-structure lookup of ingest reads the few candidates of a new row, not every stored
// conformer of its molecule, whatever plan PostgreSQL makes. Two plans did read them all: with a
// user's first large upload not yet in the statistics, every index that starts with user_id and
// holds one of the group's columns looked as cheap as calculations_structure_idx, and the planner
// took the (user_id, specification_id) one and filtered the whole specification for each new row;
// and with a generic plan (which PostgreSQL may choose after five calls in a session, forced here)
// the ORDER BY created_at LIMIT 1 walked the user's rows in time order until one matched, that is,
// all of them when none did. Each request then cost more than the one before; bench:ingest's
// 20,000 conformers ended in 504 statement timeouts. Counted here in index entries read (no
// timing), on a private stack, so that no other test's reads are counted.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { QfClient } from '../../shared/client.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { calc, lineGeometry, rng } from '../support/payloads.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createUser } from '../support/users.ts';

const STORED = 1_500;
const NEW = 100;

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  // Generic plans, as PostgreSQL may choose by itself after five calls of a statement in a session:
  // the plan then cannot lean on knowing the user's values.
  await sql`alter system set plan_cache_mode = 'force_generic_plan'`;
  await sql`select pg_reload_conf()`;
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await stack?.destroy();
});

/**
 * Index entries of calculations read so far (every index, summed) plus rows read by sequential
 * scans, once every backend has reported the `inserted` rows it wrote: an idle backend reports its
 * counts only every 10 s, all of them at once.
 */
async function entriesRead(inserted: number): Promise<number> {
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    const [t] = await sql<{ ins: number; n: number }[]>`
      select n_tup_ins::float8 as ins,
             (select coalesce(sum(idx_tup_read), 0) from pg_stat_user_indexes where relid = t.relid)::float8 + seq_tup_read::float8 as n
        from pg_stat_user_tables t where relid = 'public.calculations'::regclass`;
    if (t.ins === inserted) return t.n;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the statistics never counted ${inserted} calculations inserted`);
}

describe('the same-structure lookup of a growing upload', () => {
  it(`reads a few rows per new conformer, not the ${STORED} stored ones`, async () => {
    const user = await createUser(sql, stack.jwtSecret);
    const client = new QfClient(nodeSupabase(stack.url, user.token));
    const base = await lineGeometry('CCCCCC');
    const random = rng(7);
    // Every coordinate moved by up to 0.1 Å: distinct structures of one molecule and specification.
    const conformer = (): IngestCalculationInput => calc({
      smiles: 'CCCCCC', name: null,
      geometry: base.map((a) => ({ element: a.element, xyz: a.xyz.map((v) => v + random() * 0.1) as [number, number, number] })),
    });
    const stored = await client.ingest(Array.from({ length: STORED }, conformer));
    expect(stored.filter((r) => r.outcome === 'created')).toHaveLength(STORED);

    const before = await entriesRead(STORED);
    const added = await client.ingest(Array.from({ length: NEW }, conformer));
    expect(added.filter((r) => r.outcome === 'created')).toHaveLength(NEW);
    const perRow = (await entriesRead(STORED + NEW) - before) / NEW;
    // Filtering every stored row of the specification reads STORED entries per new row (5,000 were
    // counted so). The structure index range reads the few conformers near the new one (about 1 in
    // 100 of the stored at 0.1 Å), beside the foreign-key checks of its atoms (one per atom).
    expect(perRow, 'calculation index entries read per new conformer').toBeLessThan(STORED / 10);
  }, 300_000);
});
