// The identity of results (specifications in a calculation's identity, 20261202002000; the molecule
// key, molecules.molecule_key) meets a database filled by the version before it: the fixture
// test/fixtures/upgrade/before-identity holds what that version's uploader stored from the job
// sample and what its runner stored for one batch with its own xtb settings. Restored into the base
// migrations and upgraded as a database is upgraded (the remaining migrations with `supabase db
// push`, then `npm run backfill:molecule-keys`), it keeps every row, every calculation has the
// specification it was run with, every molecule its key, the counters equal a recount, and this
// version's functions find the stored results again.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backfillMoleculeKeys, type BackfillReport } from '../../scripts/molecule-keys/backfill.ts';
import { mintToken, newJwtSecret } from '../../scripts/stack/keys.ts';
import { dumpSchema } from '../../scripts/stack/dump-schema.ts';
import { pushMigrations } from '../../scripts/stack/migrate.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { dataTables, tableRows } from '../../scripts/upgrade/data-dump.ts';
import { startStack, type Stack } from '../../scripts/stack/stack.ts';
import { QfClient } from '../../shared/client.ts';
import { identifyMolecule } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import { nodeSupabase } from '../../scripts/lib/supabase.ts';
import { calcOf } from '../support/payloads.ts';
import { freePort } from '../support/stack.ts';
import { restoredDatabase, type RestoredDatabase } from '../support/upgrade.ts';
import { FIXTURES, readReport, runUpload } from '../upload/run-upload.ts';

// A private PostgreSQL, two migration runs, RDKit and the functions: allow for a busy machine.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/** The settings of a specification that the fixture's runs differ in. */
const settings = (spec: Record<string, unknown>) =>
  ({ accuracy: spec.accuracy, etemp: spec.electronic_temperature_k, iterations: spec.max_scc_iterations });
const DEFAULTS = { accuracy: 1, etemp: 300, iterations: 250 };
/** The batch of fill.sh: --etemp 500 --acc 0.5. */
const BATCH = { accuracy: 0.5, etemp: 500, iterations: 250 };
// 2-pyridone and 2-hydroxypyridine (fill.sh's batch): one standard InChIKey, two molecule keys.
const TAUTOMERS = ['O=c1cccc[nH]1', 'Oc1ccccn1'];
const TAUTOMER_INCHIKEY = 'UBQKCCHYAOITMY-UHFFFAOYSA-N';

let db: RestoredDatabase;
let restored: Record<string, number>;
let backfill: BackfillReport;
let stack: Stack | undefined;
let userId: string;
let token: string;
let tmp: string;

/** The ids of a table's rows in the fixture. */
function fixtureIds(table: string): string[] {
  const t = db.dump.tables.find((x) => `${x.schema}.${x.name}` === table)!;
  const at = t.columns.indexOf('id');
  return t.rows.map((r) => r.split('\t')[at]);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-upgrade-test-'));
  db = await restoredDatabase('before-identity');
  restored = await db.counts();
  // The upgrade: the migrations after the base, then what SQL cannot compute.
  await pushMigrations(db.dbUrl);
  backfill = await backfillMoleculeKeys(db.dbUrl);
  // This version's functions on the upgraded database (its start finds nothing left to do).
  const jwtSecret = newJwtSecret();
  stack = await startStack({ dbUrl: db.dbUrl, dataDir: tmp, dbPort: 0, functionsPort: await freePort(), jwtSecret });
  [{ id: userId }] = await db.sql<{ id: string }[]>`select id from auth.users`;
  token = await mintToken({ secret: jwtSecret, role: 'authenticated', sub: userId });
});

afterAll(async () => {
  await stack?.stop();
  await db?.destroy();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a database of the version before the identity work, upgraded', () => {
  it('was filled as the fixture says: uploads, a batch, the two tautomers on one row', () => {
    expect(db.dumpCounts['auth.users']).toBe(1);
    expect(db.dumpCounts['public.calculations']).toBeGreaterThanOrEqual(20);
    expect(db.dumpCounts['public.batch_items']).toBe(4);
    expect(restored).toEqual(db.dumpCounts);
  });

  it('keeps every row as it was', async () => {
    expect(await db.counts()).toEqual(db.dumpCounts);
    const keys = new Map((await dataTables(db.sql)).map((t) => [`${t.schema}.${t.name}`, t.key]));
    for (const t of db.dump.tables) {
      const table = `${t.schema}.${t.name}`;
      // Giving a molecule its key is an update, which stamps updated_at (molecules_set_updated_at).
      const columns = t.columns.filter((c) => !(table === 'public.molecules' && c === 'updated_at'));
      const at = columns.map((c) => t.columns.indexOf(c));
      const order = keys.get(table)!.length ? keys.get(table)! : t.columns;
      const now = await tableRows(db.sql, t, columns, order);
      expect(now, table).toEqual(t.rows.map((r) => r.split('\t')).map((f) => at.map((k) => f[k]).join('\t')));
    }
  });

  it('has the schema of a fresh build (supabase/schema.sql)', async () => {
    const upgraded = await dumpSchema(db.sql);
    const fresh = await readFile(repoPath('supabase/schema.sql'), 'utf8');
    // The first line that differs, rather than two texts of 3,000 lines.
    const a = upgraded.split('\n');
    const b = fresh.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    expect(i < 0 && a.length === b.length ? null : { line: i + 1, upgraded: a[i], fresh: b[i] }).toBeNull();
  });

  it('gives every calculation the specification it was run with: its batch\'s xtb_args, its program call, else the defaults', async () => {
    const rows = await db.sql<{ id: string; method: string; batch: boolean; call: string | null; spec: Record<string, unknown> }[]>`
      select c.id, c.method, c.metadata ? 'xtb_args' as batch, c.metadata ->> 'program_call' as call, s.spec
        from public.calculations c
        join public.specifications s on s.user_id = c.user_id and s.id = c.specification_id`;
    expect(rows).toHaveLength(db.dumpCounts['public.calculations']);
    const expected = (r: (typeof rows)[number]) => {
      if (r.method === 'GFN-FF') return { accuracy: null, etemp: null, iterations: null };
      if (r.batch) return BATCH;
      if (r.call?.includes('--iterations 1')) return { ...DEFAULTS, iterations: 1 };
      return DEFAULTS;
    };
    for (const r of rows) expect(settings(r.spec), `${r.id} (${r.call ?? 'batch'})`).toEqual(expected(r));
    expect(rows.filter((r) => r.batch)).toHaveLength(4);
    expect(rows.filter((r) => r.call?.includes('--iterations 1'))).toHaveLength(1);
  });

  it('gives every molecule its key, computed by RDKit from the SMILES it was first stored with', async () => {
    expect(backfill).toEqual({ keyed: db.dumpCounts['public.molecules'], conflicts: [], unidentified: [] });
    const rdkit = await loadRDKit();
    const rows = await db.sql<{ input_smiles: string; molecule_key: string | null }[]>`
      select input_smiles, molecule_key from public.molecules`;
    expect(rows).toHaveLength(db.dumpCounts['public.molecules']);
    for (const r of rows) expect(r.molecule_key, r.input_smiles).toBe(identifyMolecule(rdkit, r.input_smiles)!.molecule_key);
  });

  it('keeps a row that held two tautomers under its first SMILES\' key; the other tautomer gets its own row from now on', async () => {
    const legacy = await db.sql<{ id: string; input_smiles: string; molecule_key: string; items: string[] }[]>`
      select m.id, m.input_smiles, m.molecule_key,
             array(select i.name from public.batch_items i
                     join public.calculations c on c.user_id = i.user_id and c.id = i.calculation_id
                    where c.user_id = m.user_id and c.molecule_id = m.id order by i.name) as items
        from public.molecules m where m.inchikey = ${TAUTOMER_INCHIKEY}`;
    // The previous version stored both items' results on one row (its identity was the standard
    // InChIKey). Which tautomer each came from is recorded only in its batch item, so the row keeps
    // both, under the key of the SMILES it was first stored with.
    expect(legacy).toHaveLength(1);
    expect(legacy[0].items).toEqual(['2-hydroxypyridine', '2-pyridone']);
    const [first, other] = TAUTOMERS.includes(legacy[0].input_smiles)
      ? [legacy[0].input_smiles, TAUTOMERS.find((s) => s !== legacy[0].input_smiles)!]
      : expect.fail(`the legacy row was stored as ${legacy[0].input_smiles}`);
    const rdkit = await loadRDKit();
    const firstKey = identifyMolecule(rdkit, first)!.molecule_key;
    const otherKey = identifyMolecule(rdkit, other)!.molecule_key;
    expect(otherKey).not.toBe(firstKey);
    expect(legacy[0].molecule_key).toBe(firstKey);

    // This version's ingest: the first tautomer joins the legacy row, the other gets a row of its own.
    const client = new QfClient(nodeSupabase(stack!.url, token));
    const [same, own] = await client.ingest([await calcOf(first, { seed: 7 }), await calcOf(other, { seed: 7 })]);
    expect(same).toMatchObject({ outcome: 'created', molecule_id: legacy[0].id });
    expect(own.outcome).toBe('created');
    expect(own.molecule_id).not.toBe(legacy[0].id);
    const rows = await db.sql<{ molecule_key: string; n: number }[]>`
      select m.molecule_key, count(c.id)::int as n
        from public.molecules m left join public.calculations c on c.user_id = m.user_id and c.molecule_id = m.id
       where m.inchikey = ${TAUTOMER_INCHIKEY} group by m.molecule_key order by n desc`;
    expect(rows).toEqual([{ molecule_key: firstKey, n: 3 }, { molecule_key: otherKey, n: 1 }]);
  });

  it('keeps the counters equal to a recount', async () => {
    const stats = await db.sql`
      select u.id,
             s.molecules = (select count(*) from public.molecules m where m.user_id = u.id) as molecules,
             s.calculations_completed = (select count(*) from public.calculations c where c.user_id = u.id and c.status = 'completed')
               and s.calculations_failed = (select count(*) from public.calculations c where c.user_id = u.id and c.status = 'failed')
               and s.calculations_pending + s.calculations_running
                   = (select count(*) from public.calculations c where c.user_id = u.id and c.status in ('pending', 'running')) as calculations,
             s.calculations_gfn2_xtb + s.calculations_gfn1_xtb + s.calculations_gfn0_xtb + s.calculations_gfn_ff
               = (select count(*) from public.calculations c where c.user_id = u.id) as methods,
             s.atoms = (select count(*) from public.atomic_properties a where a.user_id = u.id) as atoms,
             (select sum(n) from public.event_counts k where k.user_id = u.id)
               = (select count(*) from public.event_logs e where e.user_id = u.id) as events
        from auth.users u join public.user_stats s on s.user_id = u.id`;
    expect(stats).toEqual([{ id: userId, molecules: true, calculations: true, methods: true, atoms: true, events: true }]);
    const batches = await db.sql`
      select b.id from public.batch_jobs b
       cross join lateral (
         select count(*) as total, count(*) filter (where i.status = 'pending') as pending,
                count(*) filter (where i.status = 'claimed') as claimed, count(*) filter (where i.status = 'completed') as completed,
                count(*) filter (where i.status = 'failed') as failed, count(*) filter (where i.status = 'cancelled') as cancelled
           from public.batch_items i where i.user_id = b.user_id and i.batch_job_id = b.id) n
       where (b.total_items, b.pending_items, b.claimed_items, b.completed_items, b.failed_items, b.cancelled_items)
             is distinct from (n.total, n.pending, n.claimed, n.completed, n.failed, n.cancelled)`;
    expect(batches).toEqual([]);
  });

  it('answers with this version\'s functions: the uploader finds every stored job again, a query returns the rows', async () => {
    const before = await db.counts();
    const report = path.join(tmp, 'again.jsonl');
    const run = await runUpload(['--jobs-root', FIXTURES, '--report', report], { SUPABASE_URL: stack!.url, SUPABASE_ACCESS_TOKEN: token });
    expect(run.code, run.stderr).toBe(0);
    const lines = readReport(report);
    const stored = new Set(fixtureIds('public.calculations'));
    for (const l of lines.filter((x) => x.calculation_id)) {
      expect(['duplicate', 'failed_calculation'], l.path).toContain(l.outcome);
      expect(l.already_stored, l.path).toBe(true);
      expect(stored.has(l.calculation_id!), l.path).toBe(true);
    }
    expect(lines.filter((l) => l.outcome === 'created').map((l) => l.path)).toEqual([]);
    expect(lines.filter((l) => l.outcome === 'duplicate').length).toBeGreaterThanOrEqual(20);
    // Nothing new but the requests' own performance_metric events.
    const after = await db.counts();
    expect({ ...after, 'public.event_logs': before['public.event_logs'] }).toEqual(before);

    const res = await fetch(`${stack!.url}/functions/v1/query/calculations?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = await res.json() as { data: { id: string }[] };
    expect(body.data.map((c) => c.id).sort()).toEqual((await db.sql<{ id: string }[]>`select id from public.calculations order by id`).map((r) => r.id));
  });
});
