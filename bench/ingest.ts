// npm run bench:ingest — 20,000 calculations of 20 atoms through HTTP from 4 concurrent clients,
// against, in the same run and into the same tables (indexes and triggers included):
//   (a) COPY of the same rows, the floor;   (b) one INSERT per row, as the original design did.
// Each method writes for its own user, so identities never collide. Prints a table and appends
// the figures to bench/RESULTS.md.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import postgres from 'postgres';
import { QfClient } from '../shared/client.ts';
import { atomicNumber } from '../shared/chem/elements.ts';
import { geometrySha256 } from '../shared/chem/geometry.ts';
import { MoleculeCache } from '../shared/chem/molecule.ts';
import { loadRDKit } from '../shared/chem/rdkit.ts';
import type { IngestCalculationInput } from '../shared/contract/ingest.ts';
import { nodeSupabase } from '../scripts/lib/supabase.ts';
import { startTestStack } from '../test/support/stack.ts';
import { createUser } from '../test/support/users.ts';
import { rng, syntheticCalculation } from './lib/synthetic.ts';
import { table } from './lib/table.ts';
import { appendResults } from './lib/results.ts';
import { endStream } from './lib/copy-stream.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const CLIENTS = 4;
const ROW_BY_ROW_N = Number(process.env.BENCH_ROW_BY_ROW_N ?? 1_000);

const stack = await startTestStack();
const sql = postgres(stack.dbUrl, { max: 4, onnotice: () => {} });
try {
  const newUser = () => createUser(sql, stack.jwtSecret);
  const random = rng(42);
  const items = Array.from({ length: N }, (_, i) => syntheticCalculation(i, random));
  const atomsPerCalc = items[0].geometry.length;

  // --- ours: HTTP, 4 clients, the typed client's default request size ---------------------
  const ours = await newUser();
  let t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, (_, k) => {
    const client = new QfClient(nodeSupabase(stack.url, ours.token));
    return client.ingest(items.filter((_, i) => i % CLIENTS === k));
  }));
  const oursS = (performance.now() - t0) / 1000;
  const [{ stored }] = await sql`select count(*)::int as stored from public.calculations where user_id = ${ours.id}`;
  if (stored !== N) throw new Error(`ingest stored ${stored} of ${N}`);

  // --- rows as ingest would write them (canonical molecules, hashed geometries) ------------
  const cache = new MoleculeCache(await loadRDKit());
  const rows = await Promise.all(items.map(async (c) => ({ c, m: cache.identify(c.molecule.smiles)!, sha: await geometrySha256(c.geometry) })));

  // --- (a) COPY ------------------------------------------------------------------------------
  const copyUser = await newUser();
  t0 = performance.now();
  await sql.begin(async (tx) => {
    const molIds = await insertMolecules(tx, copyUser.id, rows.map((r) => r.m));
    const specOf = await specificationIds(tx, copyUser.id, rows.map((r) => r.c));
    const calcIds = rows.map(() => randomUUID());
    const calcStream = await tx`copy public.calculations (id, user_id, molecule_id, specification_id, method, task, solvent, charge, multiplicity, status,
      total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, converged, wall_time_s, xtb_version, geometry_sha256, source, tags, completed_at)
      from stdin`.writable();
    rows.forEach(({ c, m, sha }, i) => {
      const r = c.results!;
      calcStream.write([calcIds[i], copyUser.id, molIds.get(m.molecule_key), specOf(c), c.method, c.task, c.solvent ?? '\\N', c.charge, c.multiplicity, 'completed',
        r.total_energy_eh, r.homo_lumo_gap_ev, r.dipole_debye, `{${r.dipole_au!.join(',')}}`, 't', r.wall_time_s, r.xtb_version, sha, c.source, '{bench}', new Date().toISOString()].join('\t') + '\n');
    });
    await endStream(calcStream);
    const atomStream = await tx`copy public.atomic_properties (calculation_id, user_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang,
      partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr) from stdin`.writable();
    rows.forEach(({ c }, i) => {
      let chunk = '';
      c.geometry.forEach((a, k) => {
        const g = c.gradient?.[k];
        chunk += [calcIds[i], copyUser.id, k, a.element, atomicNumber(a.element), a.xyz[0], a.xyz[1], a.xyz[2], c.charges![k],
          g ? g[0] : '\\N', g ? g[1] : '\\N', g ? g[2] : '\\N'].join('\t') + '\n';
      });
      atomStream.write(chunk);
    });
    await endStream(atomStream);
  });
  const copyS = (performance.now() - t0) / 1000;

  // --- (b) row by row: one INSERT per calculation and per atom ------------------------------
  const rowUser = await newUser();
  const subset = rows.slice(0, ROW_BY_ROW_N);
  t0 = performance.now();
  await sql.begin(async (tx) => {
    const molIds = await insertMolecules(tx, rowUser.id, subset.map((r) => r.m));
    const specOf = await specificationIds(tx, rowUser.id, subset.map((r) => r.c));
    for (const { c, m, sha } of subset) {
      const r = c.results!;
      const [{ id }] = await tx`insert into public.calculations (user_id, molecule_id, specification_id, method, task, solvent, charge, multiplicity, status,
        total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, converged, wall_time_s, xtb_version, geometry_sha256, source, completed_at)
        values (${rowUser.id}, ${molIds.get(m.molecule_key)!}, ${specOf(c)}, ${c.method}, ${c.task}, ${c.solvent ?? null}, ${c.charge!}, ${c.multiplicity!}, 'completed',
        ${r.total_energy_eh}, ${r.homo_lumo_gap_ev!}, ${r.dipole_debye!}, ${r.dipole_au!}, true, ${r.wall_time_s!}, ${r.xtb_version!}, ${sha}, ${c.source!}, now())
        returning id`;
      for (const [k, a] of c.geometry.entries()) {
        const g = c.gradient?.[k];
        await tx`insert into public.atomic_properties (calculation_id, user_id, atom_index, element, atomic_number, x_ang, y_ang, z_ang,
          partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr)
          values (${id}, ${rowUser.id}, ${k}, ${a.element}, ${atomicNumber(a.element)!}, ${a.xyz[0]}, ${a.xyz[1]}, ${a.xyz[2]}, ${c.charges![k]},
          ${g ? g[0] : null}, ${g ? g[1] : null}, ${g ? g[2] : null})`;
      }
    }
  });
  const rowS = (performance.now() - t0) / 1000;

  const rate = (n: number, s: number) => n / s;
  const oursRate = rate(N, oursS);
  const copyRate = rate(N, copyS);
  const rowRate = rate(ROW_BY_ROW_N, rowS);
  console.log(`\ningest: ${N} calculations x ${atomsPerCalc} atoms, ${CLIENTS} clients, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}\n`);
  const out = table(['method', 'calculations', 'seconds', 'calc/s', 'atom rows/s', 'ours / this'], [
    ['ingest function (HTTP, 4 clients)', N, oursS, oursRate, oursRate * atomsPerCalc, '1.00'],
    ['(a) COPY, same tables', N, copyS, copyRate, copyRate * atomsPerCalc, (oursRate / copyRate).toFixed(2)],
    ['(b) INSERT per row', ROW_BY_ROW_N, rowS, rowRate, rowRate * atomsPerCalc, (oursRate / rowRate).toFixed(1)],
  ]);
  const goals = [
    `- ours / COPY = ${(oursRate / copyRate * 100).toFixed(0)}% (goal ≥ 30%: ${oursRate / copyRate >= 0.3 ? 'met' : 'MISSED'})`,
    `- ours / row-by-row = ${(oursRate / rowRate).toFixed(1)}× (goal ≥ 10×: ${oursRate / rowRate >= 10 ? 'met' : 'MISSED'})`,
  ].join('\n');
  console.log(goals);
  await appendResults('bench:ingest', `${N} calculations × ${atomsPerCalc} atoms, ${CLIENTS} concurrent HTTP clients; row-by-row measured on ${ROW_BY_ROW_N} calculations`, out + '\n\n' + goals);
} finally {
  await sql.end();
  await stack.destroy();
}

/**
 * The default specification of each (method, task, solvent) of the rows, stored for the user: the
 * baselines name it as ingest does, rather than leave it to the per-row trigger that fills it in
 * for SQL written by hand.
 */
async function specificationIds(tx: postgres.TransactionSql, userId: string, calcs: IngestCalculationInput[]) {
  const keyOf = (c: IngestCalculationInput) => `${c.method}|${c.task}|${c.solvent ?? ''}`;
  const ids = new Map<string, string>();
  for (const c of new Map(calcs.map((x) => [keyOf(x), x])).values()) {
    const [{ id }] = await tx`
      insert into public.specifications (user_id, spec)
      values (${userId}, public.xtb_specification(${c.method}, ${c.task}, ${c.solvent ?? null}, '{}'))
      on conflict (user_id, spec_hash) do update set spec = excluded.spec
      returning id`;
    ids.set(keyOf(c), id);
  }
  return (c: IngestCalculationInput) => ids.get(keyOf(c))!;
}

async function insertMolecules(
  tx: postgres.TransactionSql, userId: string,
  molecules: { inchikey: string; molecule_key: string; canonical_smiles: string; formula: string; n_atoms: number }[],
) {
  const distinct = [...new Map(molecules.map((m) => [m.molecule_key, m])).values()];
  const ids = new Map<string, string>();
  for (const m of distinct) {
    const [{ id }] = await tx`insert into public.molecules (user_id, canonical_smiles, inchikey, molecule_key, formula, input_smiles, n_atoms)
      values (${userId}, ${m.canonical_smiles}, ${m.inchikey}, ${m.molecule_key}, ${m.formula}, ${m.canonical_smiles}, ${m.n_atoms}) returning id`;
    ids.set(m.molecule_key, id);
  }
  return ids;
}

