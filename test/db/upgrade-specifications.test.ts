// The specification migrations on a database the previous version filled. The schema is built
// from the migration files of commit 0e47cf9 (`git show`, applied with the CLI's db push as ops
// would), and filled through that version's own SQL functions, called as its edge functions
// called them: the fixture sample ingested as the uploader sent it, and two batches (one with
// `--etemp 5000`, one answered by a stored calculation) claimed and completed as its runner did.
// Then the current migrations are pushed on top. Afterwards every row has a specification that
// says what it was run with, nothing else changed, and the new ingest finds the old rows.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestCalculation, type IngestCalculationInput } from '../../shared/contract/ingest.ts';
import { atomicNumber } from '../../shared/chem/elements.ts';
import { checkMolecule } from '../../shared/chem/formula-check.ts';
import { geometrySha256 } from '../../shared/chem/geometry.ts';
import { MoleculeCache, type MoleculeIdentity } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import { pushMigrations, supabaseCli, cliDbUrl } from '../../scripts/stack/migrate.ts';
import { REPO_ROOT } from '../../scripts/stack/paths.ts';
import { startPostgres, type RunningPostgres } from '../../scripts/stack/postgres.ts';
import { isRejected, prepareItem, type PreparedItem } from '../../supabase/functions/_shared/prepare-calculation.ts';
import { storeItems } from '../../supabase/functions/_shared/store-calculations.ts';
import { parsedFixtureJobs } from '../support/fixtures.ts';
import { freePort } from '../support/ports.ts';
import { GEOMETRIES } from '../support/payloads.ts';

const PREVIOUS = '0e47cf9';
const USER = '5b0c8a8e-1d2f-4c3b-9a7e-6f5d4c3b2a10';

const git = (...args: string[]) => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

/** The previous version's store-calculations.ts: one ingest_item (jsonb) and the atom arrays. */
function previousPayload(items: { idx: number; calc: IngestCalculation; molecule: MoleculeIdentity; hash: string; batchItemId?: string }[]) {
  const rows = items.map(({ idx, calc: c, molecule: m, hash, batchItemId }) => ({
    idx, inchikey: m.inchikey, canonical_smiles: m.canonical_smiles, formula: m.formula, n_atoms: m.n_atoms,
    name: c.molecule.name ?? null, input_smiles: c.molecule.smiles, method: c.method, task: c.task, solvent: c.solvent,
    charge: c.charge, multiplicity: c.multiplicity, geometry_sha256: hash, status: c.status,
    total_energy_eh: c.results?.total_energy_eh ?? null, homo_lumo_gap_ev: c.results?.homo_lumo_gap_ev ?? null,
    dipole_debye: c.results?.dipole_debye ?? null, dipole_au: c.results?.dipole_au ?? null, converged: c.results?.converged ?? null,
    gradient_norm_eh_bohr: c.results?.gradient_norm_eh_bohr ?? null, wall_time_s: c.results?.wall_time_s ?? null,
    xtb_version: c.results?.xtb_version ?? null, batch_item_id: batchItemId ?? null, source: c.source ?? null, tags: c.tags,
    metadata: c.metadata, error_message: c.error_message ?? null, started_at: null, completed_at: null,
  }));
  const a = { calc: [] as number[], index: [] as number[], element: [] as string[], z: [] as number[], x: [] as number[], y: [] as number[],
    zc: [] as number[], q: [] as (number | null)[], gx: [] as (number | null)[], gy: [] as (number | null)[], gz: [] as (number | null)[] };
  for (const { idx, calc: c } of items) {
    if (c.status !== 'completed' && !c.charges && !c.gradient) continue;
    (c.final_geometry ?? c.geometry).forEach((atom, i) => {
      a.calc.push(idx); a.index.push(i); a.element.push(atom.element); a.z.push(atomicNumber(atom.element) ?? 0);
      a.x.push(atom.xyz[0]); a.y.push(atom.xyz[1]); a.zc.push(atom.xyz[2]);
      a.q.push(c.charges ? c.charges[i] : null);
      a.gx.push(c.gradient ? c.gradient[i][0] : null); a.gy.push(c.gradient ? c.gradient[i][1] : null); a.gz.push(c.gradient ? c.gradient[i][2] : null);
    });
  }
  return { rows, a };
}

describe(`the specification migrations on a database filled by ${PREVIOUS}`, () => {
  let root: string;
  let pg: RunningPostgres;
  let sql: postgres.Sql;
  let cache: MoleculeCache;
  let before: Record<string, unknown>;
  const ids: Record<string, string> = {};

  const asUser = <T>(work: (tx: postgres.TransactionSql) => Promise<T>) => sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: USER })}, true),
                    set_config('role', 'authenticated', true)`;
    return work(tx);
  }) as Promise<T>;

  /** Calls the previous version's ingest_calculations (12 parameters) as its ingest function did. */
  const previousIngest = (tx: postgres.TransactionSql, items: Parameters<typeof previousPayload>[0]) => {
    const { rows, a } = previousPayload(items);
    return tx<{ idx: number; outcome: string; calculation_id: string }[]>`
      select idx, outcome, calculation_id from public.ingest_calculations(
        ${tx.json(rows as never)}::jsonb, ${a.calc}::int[], ${a.index}::int[], ${a.element}::text[], ${a.z}::int[],
        ${a.x}::float8[], ${a.y}::float8[], ${a.zc}::float8[], ${a.q}::float8[], ${a.gx}::float8[], ${a.gy}::float8[], ${a.gz}::float8[])`;
  };

  const prepared = async (input: IngestCalculationInput, idx = 0) => {
    const calc = IngestCalculation.parse(input);
    const check = checkMolecule((s) => cache.identify(s), calc.molecule.smiles, calc.geometry.map((g) => g.element));
    if (!check.ok) return null;
    return { idx, calc, molecule: check.molecule, hash: await geometrySha256(calc.geometry) };
  };

  /** One batch as the previous runner worked it: create, claim, ingest the result with its item, complete. */
  async function previousBatch(name: string, xtbArgs: string[], energy: number, shift = 0): Promise<{ batch: string; item: string; calculation: string; outcome: string }> {
    const water = cache.identify('O')!;
    const geometry = GEOMETRIES.O.map((a) => ({ element: a.element, xyz: [a.xyz[0] + shift, a.xyz[1], a.xyz[2]] as [number, number, number] }));
    return asUser(async (tx) => {
      const [{ batch_id: batch }] = await tx`
        select batch_id from public.create_batch(
          ${tx.json({ name, method: 'GFN2-xTB', task: 'sp', solvent: null, max_attempts: 3, priority: 0, tags: [], xtb_args: xtbArgs, metadata: {} } as never)}::jsonb,
          ${tx.json([{ inchikey: water.inchikey, canonical_smiles: water.canonical_smiles, formula: water.formula, name: 'water', input_smiles: 'O', n_atoms: 3 }] as never)}::jsonb,
          ${tx.json([{ idx: 0, molecule_id: null, inchikey: water.inchikey, name: 'water', input_geometry: geometry, charge: 0, multiplicity: 1 }] as never)}::jsonb)`;
      const [{ item_id: item }] = await tx`select item_id from public.claim_batch_items('old-runner', 1, 60, ${batch}::uuid)`;
      const argv = ['input.xyz', '--gfn', '2', '--chrg', '0', '--uhf', '0', '--json', ...xtbArgs];
      const p = (await prepared({
        molecule: { smiles: 'O' }, method: 'GFN2-xTB', task: 'sp', status: 'completed', geometry,
        results: { total_energy_eh: energy, xtb_version: '6.5.1' }, source: 'runner:old-runner',
        metadata: { runner_id: 'old-runner', attempt: 1, ...(xtbArgs.length ? { xtb_args: xtbArgs } : {}), program_call: `xtb ${argv.join(' ')}` },
      }))!;
      const [stored] = await previousIngest(tx, [{ ...p, batchItemId: item }]);
      await tx`select item_id from public.complete_batch_items('old-runner', ${[item]}::uuid[], ${[stored.calculation_id]}::uuid[])`;
      return { batch, item, calculation: stored.calculation_id, outcome: stored.outcome };
    });
  }

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'qf-upgrade-'));
    await chmod(root, 0o755);
    // The previous version's migrations, as they were at that commit.
    const workdir = path.join(root, 'previous');
    await mkdir(path.join(workdir, 'supabase', 'migrations'), { recursive: true });
    const files = git('ls-tree', '--name-only', `${PREVIOUS}:supabase/migrations`).trim().split('\n');
    for (const f of files) await writeFile(path.join(workdir, 'supabase', 'migrations', f), git('show', `${PREVIOUS}:supabase/migrations/${f}`));
    await writeFile(path.join(workdir, 'supabase', 'config.toml'), git('show', `${PREVIOUS}:supabase/config.toml`));

    pg = await startPostgres({ dataDir: path.join(root, 'pgdata'), port: await freePort() });
    sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    await sql.unsafe(git('show', `${PREVIOUS}:supabase/bootstrap/local-platform.sql`));
    await supabaseCli(['db', 'push', '--workdir', workdir, '--db-url', cliDbUrl(pg.url), '--yes']);
    await sql`insert into auth.users (id, email) values (${USER}, 'upgrade@test.local')`;

    // Filled by the previous version: the uploader's fixtures, then the batches.
    cache = new MoleculeCache(await loadRDKit());
    const jobs = (await parsedFixtureJobs()).filter((j) => j.calculation);
    const items: NonNullable<Awaited<ReturnType<typeof prepared>>>[] = [];
    for (const job of jobs) {
      const p = await prepared(job.calculation!, items.length);
      if (p) items.push(p);
      if (p) ids[job.path] = String(p.idx);
    }
    const stored = await asUser((tx) => previousIngest(tx, items));
    for (const [path_, idx] of Object.entries(ids)) ids[path_] = stored.find((s) => s.idx === Number(idx))!.calculation_id;
    // (The previous version would have merged the etemp batch's result with the default one on the
    // same geometry: the issue this migration fixes. Its own geometry keeps the two rows apart.)
    const etemp = await previousBatch('old etemp batch', ['--etemp', '5000'], -5.0702, 0.25);
    const defaults = await previousBatch('old default batch', [], -5.0701);
    const repeat = await previousBatch('old repeat batch', [], -5.0701);
    expect([etemp.outcome, defaults.outcome, repeat.outcome]).toEqual(['created', 'created', 'duplicate']);
    Object.assign(ids, { etemp: etemp.calculation, defaults: defaults.calculation, repeatBatch: repeat.batch, repeatItem: repeat.item });

    before = (await sql`
      select (select count(*) from public.calculations)::int as calculations,
             (select count(*) from public.molecules)::int as molecules,
             (select count(*) from public.atomic_properties)::int as atoms,
             (select count(*) from public.event_logs)::int as events,
             (select jsonb_agg(to_jsonb(s) - 'updated_at' order by user_id) from public.user_stats s) as stats,
             (select jsonb_object_agg(id, updated_at) from public.calculations) as updated_at,
             (select jsonb_object_agg(id, calculation_id) from public.batch_items) as links`)[0];

    // The current migrations on top, pushed as ops push them.
    await pushMigrations(pg.url);
  }, 600_000);

  afterAll(async () => {
    await sql?.end();
    await pg?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('leaves every calculation with a specification, and changes no row, count, event or timestamp', async () => {
    const [after] = await sql`
      select (select count(*) from public.calculations)::int as calculations,
             (select count(*) from public.molecules)::int as molecules,
             (select count(*) from public.atomic_properties)::int as atoms,
             (select count(*) from public.event_logs)::int as events,
             (select jsonb_agg(to_jsonb(s) - 'updated_at' order by user_id) from public.user_stats s) as stats,
             (select jsonb_object_agg(id, updated_at) from public.calculations) as updated_at,
             (select jsonb_object_agg(id, calculation_id) from public.batch_items) as links`;
    expect(after).toEqual(before);
    const [nulls] = await sql`select count(*)::int as n from public.calculations where specification_id is null`;
    expect(nulls.n).toBe(0);
    expect((before as { calculations: number }).calculations).toBeGreaterThan(20);
  });

  it('gives each row the specification of what it was run with: its program call, else its batch\'s xtb_args, else the defaults', async () => {
    const specOf = async (id: string) => (await sql`
      select s.spec from public.calculations c join public.specifications s on s.id = c.specification_id where c.id = ${id}`)[0].spec;
    expect(await specOf(ids['2025-04/qf-20250401-00018'])).toMatchObject({ max_scc_iterations: 1, electronic_temperature_k: 300 });
    expect(await specOf(ids['2025-03/qf-20250301-00006'])).toMatchObject({ solvation: { model: 'alpb', solvent: 'water', reference_state: 'gsolv' } });
    expect(await specOf(ids['2025-03/qf-20250302-00013'])).toMatchObject({ method: 'GFN-FF', accuracy: null, electronic_temperature_k: null });
    expect(await specOf(ids.etemp)).toMatchObject({ electronic_temperature_k: 5000 });
    const defaults = (await sql`select public.xtb_specification('GFN2-xTB', 'sp', null, '{}') as spec`)[0].spec;
    expect(await specOf(ids.defaults)).toEqual(defaults);
    expect(await specOf(ids['2025-03/qf-20250301-00001'])).toEqual(defaults);
    const [counts] = await sql`select count(*)::int as specs, count(distinct spec_hash)::int as hashes from public.specifications`;
    expect(counts.specs).toBe(counts.hashes);
  });

  it('lets the new ingest find the old rows: re-sent results are duplicates, a result under another specification is new', async () => {
    const jobs = Object.fromEntries((await parsedFixtureJobs()).map((j) => [j.path, j]));
    const water = (xtbArgs: string[], energy: number): IngestCalculationInput => ({
      molecule: { smiles: 'O' }, method: 'GFN2-xTB', task: 'sp', status: 'completed', geometry: GEOMETRIES.O,
      results: { total_energy_eh: energy }, xtb_args: ['input.xyz', '--gfn', '2', '--json', ...xtbArgs],
    });
    const shifted = (c: IngestCalculationInput): IngestCalculationInput =>
      ({ ...c, geometry: c.geometry.map((a) => ({ element: a.element, xyz: [a.xyz[0] + 0.25, a.xyz[1], a.xyz[2]] as [number, number, number] })) });
    const raws = [jobs['2025-03/qf-20250301-00003'].calculation!, jobs['2025-04/qf-20250401-00018'].calculation!,
      shifted(water(['--etemp', '5000'], -5.0702)), water([], -5.0701), water(['--etemp', '400'], -5.07)];
    const items: PreparedItem[] = [];
    for (const [i, raw] of raws.entries()) {
      const p = await prepareItem(raw, i, cache);
      if (isRejected(p)) throw new Error(JSON.stringify(p.errors));
      items.push(p);
    }
    const rows = await asUser((tx) => storeItems(tx as never, items));
    expect(rows.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'created']);
    expect(rows.slice(0, 4).map((r) => r.calculation_id)).toEqual([
      ids['2025-03/qf-20250301-00003'], ids['2025-04/qf-20250401-00018'], ids.etemp, ids.defaults,
    ]);
  });

  it('keeps the item links of the old batches: the batch answered by a stored calculation still points at it', async () => {
    const [item] = await sql`select status, calculation_id from public.batch_items where id = ${ids.repeatItem}`;
    expect(item).toEqual({ status: 'completed', calculation_id: ids.defaults });
  });
});
