// Seeds a user with N completed calculations of realistic organic molecules (about 20 atoms each,
// C H N O F S Cl) with COPY: 10^6 calculations and 2·10^7 atom rows in minutes. Reusable by any
// bench (`seedCalculations(sql, { userId, n })`) and runnable alone:
//
//   npx tsx bench/seed-calculations.ts --db-url postgresql://… --user <uuid> --n 1000000
//
// The rows are what ingest would store: molecules canonicalised by RDKit (InChIKey, Hill formula,
// atom count with hydrogens), one geometry per calculation perturbed from its molecule's, values
// spread around per-molecule means (energy from per-element increments, gap, dipole), a method /
// task / solvent mix, gradients on grad tasks, and created_at spread over a year in id order.
// All tables' triggers fire as for any insert (events, user_stats), in chunks of `chunk` rows.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { cliArgs, usageExit } from '../scripts/lib/cli-args.ts';
import { atomicNumber } from '../shared/chem/elements.ts';
import { identifyMolecule, type MoleculeIdentity } from '../shared/chem/molecule.ts';
import { loadRDKit } from '../shared/chem/rdkit.ts';
import { AU_DEBYE } from '../shared/units.ts';
import { rng } from './lib/synthetic.ts';
import { finished, write } from './lib/copy-stream.ts';
import { insertUser } from '../test/support/users.ts';

export interface SeedOptions {
  userId: string;
  /** Calculations to add. */
  n: number;
  /** PRNG seed: the same seed gives the same data. */
  seed?: number;
  /** Calculations per COPY transaction. */
  chunk?: number;
  /** created_at of the first row; rows follow in order over `spanDays`. */
  start?: Date;
  spanDays?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  molecules: number;
  calculations: number;
  atoms: number;
  seconds: number;
}

export interface SeedMolecule extends MoleculeIdentity {
  id: string;
  symbols: string[];
  base: Float64Array;
  gap: number;
  dipole: number;
  energy: number;
}

// ---------------------------------------------------------------------------------------------
// Molecules: substituted benzenes, pyridines, cyclohexanes and chains, kept at 10–32 atoms.

const GROUPS = ['C', 'CC', 'O', 'N', 'F', 'Cl', 'C(=O)O', 'C#N', 'OC', 'S', 'C=O', 'N(C)C', 'C(F)(F)F', 'CO', 'C(N)=O', 'CCC'];
const SCAFFOLDS = [
  (a: string, b: string) => `c1cc(${a})ccc1${b}`,
  (a: string, b: string) => `c1ccc(${a})c(${b})c1`,
  (a: string, b: string) => `c1cc(${a})cnc1${b}`,
  (a: string, b: string) => `C1CC(${a})CCC1${b}`,
  (a: string, b: string) => `CC(${a})CC${b}`,
  (a: string, b: string) => `${a}CCOCC${b}`,
  (a: string, b: string) => `O=C(N${a})C${b}`,
];

export function moleculeSmiles(): string[] {
  const out: string[] = [];
  for (const scaffold of SCAFFOLDS) for (const a of GROUPS) for (const b of GROUPS) out.push(scaffold(a, b));
  return out;
}

// Rough GFN2-xTB energy increments per atom (Eh): good enough for realistic totals and spreads.
const ENERGY_EH: Record<string, number> = { H: -0.45, C: -2.35, N: -3.3, O: -4.2, F: -4.8, S: -3.9, Cl: -4.5 };
const CHARGE_E: Record<string, number> = { H: 0.06, C: -0.05, N: -0.35, O: -0.45, F: -0.2, S: -0.15, Cl: -0.12 };
const METHOD_SCALE: Record<string, number> = { 'GFN2-xTB': 1, 'GFN1-xTB': 1.04, 'GFN0-xTB': 0.97, 'GFN-FF': 0.18 };

function molecules(rdkit: Awaited<ReturnType<typeof loadRDKit>>, random: () => number): Omit<SeedMolecule, 'id'>[] {
  const seen = new Set<string>();
  const out: Omit<SeedMolecule, 'id'>[] = [];
  for (const smiles of moleculeSmiles()) {
    const identity = identifyMolecule(rdkit, smiles);
    if (!identity || seen.has(identity.molecule_key) || identity.n_atoms < 10 || identity.n_atoms > 32) continue;
    seen.add(identity.molecule_key);
    const symbols = [...identity.elements].flatMap(([e, k]) => Array<string>(k).fill(e));
    // A molecule-like cloud: a random walk of 1.1–1.5 Å steps.
    const base = new Float64Array(symbols.length * 3);
    for (let i = 1; i < symbols.length; i++) {
      const j = Math.floor(random() * i);
      const theta = Math.acos(2 * random() - 1);
      const phi = 2 * Math.PI * random();
      const r = 1.1 + 0.4 * random();
      base[3 * i] = base[3 * j] + r * Math.sin(theta) * Math.cos(phi);
      base[3 * i + 1] = base[3 * j + 1] + r * Math.sin(theta) * Math.sin(phi);
      base[3 * i + 2] = base[3 * j + 2] + r * Math.cos(theta);
    }
    const aromatic = /c/.test(identity.canonical_smiles);
    out.push({
      ...identity,
      symbols,
      base,
      energy: symbols.reduce((s, e) => s + ENERGY_EH[e], 0),
      gap: aromatic ? 3.5 + 2 * random() : 7 + 4 * random(),
      dipole: 4 * random(),
    });
  }
  return out;
}

/** Inserts the molecules (existing molecule keys are kept) and returns them with their ids. */
export async function seedMolecules(sql: postgres.Sql, userId: string, seed = 1): Promise<SeedMolecule[]> {
  const list = molecules(await loadRDKit(), rng(seed));
  const rows = list.map((m) => ({
    user_id: userId, canonical_smiles: m.canonical_smiles, inchikey: m.inchikey, molecule_key: m.molecule_key, formula: m.formula,
    input_smiles: m.canonical_smiles, n_atoms: m.n_atoms, name: `seed ${m.formula}`, tags: ['bench'],
  }));
  await sql`insert into public.molecules ${sql(rows)} on conflict (user_id, molecule_key) do nothing`;
  const ids = new Map((await sql<{ id: string; molecule_key: string }[]>`
    select id, molecule_key from public.molecules where user_id = ${userId}`).map((r) => [r.molecule_key, r.id]));
  return list.map((m) => ({ ...m, id: ids.get(m.molecule_key)! }));
}

// ---------------------------------------------------------------------------------------------
// Calculations

const pick = <T>(random: () => number, weighted: [T, number][]): T => {
  let x = random();
  for (const [v, w] of weighted) if ((x -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
};
const METHODS: [string, number][] = [['GFN2-xTB', 0.85], ['GFN1-xTB', 0.1], ['GFN-FF', 0.03], ['GFN0-xTB', 0.02]];
const TASKS: [string, number][] = [['sp', 0.4], ['grad', 0.3], ['opt', 0.3]];
const SOLVENTS: [string | null, number][] = [[null, 0.6], ['water', 0.2], ['methanol', 0.1], ['dmso', 0.1]];

/** Time-ordered UUIDs (version 7 layout): rows of a seed are appended to the id indexes. */
function uuid7(ms: number, counter: number): string {
  const hex = ms.toString(16).padStart(12, '0') + '7' + (counter & 0xfff).toString(16).padStart(3, '0') +
    (0x8 | ((counter >>> 12) & 0x3)).toString(16) + randomBytes(8).toString('hex').slice(1);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const gauss = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const f = (x: number, digits: number) => x.toFixed(digits);

export async function seedCalculations(sql: postgres.Sql, opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const random = rng(opts.seed ?? 7);
  const mols = await seedMolecules(sql, opts.userId, opts.seed ?? 1);
  const chunk = opts.chunk ?? 50_000;
  const spanMs = (opts.spanDays ?? 365) * 86_400_000;
  const t0 = (opts.start ?? new Date(Date.now() - spanMs)).getTime();
  const user = opts.userId;
  let atoms = 0;

  // Atoms go through their own connection, with row triggers off (session_replication_role =
  // replica, owner only): the foreign key holds by construction, and the one counter those
  // triggers keep (user_stats.atoms) is added once at the end. Calculations keep every trigger.
  // The two COPYs run side by side, fed as rows are generated.
  const atomConn = await sql.reserve();
  try {
    await atomConn`set session_replication_role = replica`;
    for (let done = 0; done < opts.n; done += chunk) {
      const size = Math.min(chunk, opts.n - done);
      const calcCopy = await sql`copy public.calculations (id, user_id, molecule_id, method, task, solvent, charge, multiplicity, status,
        total_energy_eh, homo_lumo_gap_ev, dipole_debye, dipole_au, converged, wall_time_s, xtb_version, geometry_sha256,
        source, tags, completed_at, created_at, updated_at) from stdin`.writable();
      const atomCopy = await atomConn`copy public.atomic_properties (calculation_id, user_id, atom_index, element, atomic_number,
        x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr) from stdin`.writable();
      const copied = Promise.all([finished(calcCopy), finished(atomCopy)]);
      for (let from = 0; from < size; from += 500) {
        let calcText = '';
        let atomText = '';
        for (let k = from; k < Math.min(size, from + 500); k++) {
          const i = done + k;
          const ms = t0 + Math.floor((i / opts.n) * spanMs);
          const created = new Date(ms).toISOString();
          const id = uuid7(ms, i);
          const m = mols[Math.floor(random() * mols.length)];
          const method = pick(random, METHODS);
          const task = pick(random, TASKS);
          const solvent = pick(random, SOLVENTS);
          const ff = method === 'GFN-FF';
          const energy = m.energy * METHOD_SCALE[method] + 0.01 * gauss(random) - (solvent ? 0.005 : 0);
          const gap = ff ? null : Math.max(0.05, m.gap + 0.2 * gauss(random));
          const dipole = ff ? null : Math.abs(m.dipole + 0.1 * gauss(random));
          let dipoleAu = '\\N';
          if (dipole !== null) {
            const [x, y, z] = [gauss(random), gauss(random), gauss(random)];
            const s = dipole / AU_DEBYE / (Math.hypot(x, y, z) || 1);
            dipoleAu = `{${f(x * s, 6)},${f(y * s, 6)},${f(z * s, 6)}}`;
          }
          const sha = randomBytes(32).toString('hex');
          calcText += `${id}\t${user}\t${m.id}\t${method}\t${task}\t${solvent ?? '\\N'}\t0\t1\tcompleted\t${energy}\t${gap ?? '\\N'}\t${dipole ?? '\\N'}\t${dipoleAu}\tt\t${f(0.02 * m.n_atoms * (0.5 + random()), 4)}\t6.5.1\t${sha}\tbench:seed\t{bench,set-${i % 8}}\t${created}\t${created}\t${created}\n`;
          const grad = task === 'grad';
          for (let a = 0; a < m.symbols.length; a++) {
            const e = m.symbols[a];
            const x = m.base[3 * a] + 0.05 * gauss(random);
            const y = m.base[3 * a + 1] + 0.05 * gauss(random);
            const z = m.base[3 * a + 2] + 0.05 * gauss(random);
            const q = CHARGE_E[e] + 0.03 * gauss(random);
            const g = grad ? `${f(2e-3 * gauss(random), 8)}\t${f(2e-3 * gauss(random), 8)}\t${f(2e-3 * gauss(random), 8)}` : '\\N\t\\N\t\\N';
            atomText += `${id}\t${user}\t${a}\t${e}\t${atomicNumber(e)}\t${f(x, 8)}\t${f(y, 8)}\t${f(z, 8)}\t${f(q, 6)}\t${g}\n`;
          }
          atoms += m.symbols.length;
        }
        await Promise.all([write(calcCopy, calcText), write(atomCopy, atomText)]);
      }
      calcCopy.end();
      atomCopy.end();
      await copied;
      opts.onProgress?.(done + size, opts.n);
    }
  } finally {
    atomConn.release();
  }
  // What the atomic_properties row trigger would have counted.
  await sql`
    insert into public.user_stats_slots as s (user_id, slot, atoms) values (${user}, 0, ${atoms})
    on conflict (user_id, slot) do update set atoms = s.atoms + excluded.atoms`;
  return { molecules: mols.length, calculations: opts.n, atoms, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// CLI

if (import.meta.url === `file://${process.argv[1]}`) {
  const USAGE = [
    'usage: npx tsx bench/seed-calculations.ts --db-url <postgres url> --user <uuid> [--n 1000000] [--chunk 50000] [--seed 7]',
    '  --db-url URL   the database (default: SUPABASE_DB_URL or DATABASE_URL)',
    '  --user UUID    whose calculations; added to auth.users if missing',
    '  --n N          calculations to add (default 1000000)',
    '  --chunk N      calculations per COPY transaction (default 50000)',
    '  --seed N       PRNG seed: the same seed gives the same data (default 7)',
    '  -h, --help     print this help',
  ].join('\n');
  const { values } = cliArgs('seed-calculations', USAGE, process.argv.slice(2), {
    options: {
      'db-url': { type: 'string', default: process.env.SUPABASE_DB_URL ?? process.env.DATABASE_URL },
      user: { type: 'string' },
      n: { type: 'string', default: '1000000' },
      chunk: { type: 'string', default: '50000' },
      seed: { type: 'string', default: '7' },
    },
  });
  if (!values.user) usageExit('seed-calculations', USAGE, '--user is required');
  if (!values['db-url']) usageExit('seed-calculations', USAGE, '--db-url is required (or set SUPABASE_DB_URL)');
  const sql = postgres(values['db-url'], { max: 2, onnotice: () => {} });
  try {
    await insertUser(sql, values.user);
    const n = Number(values.n);
    let last = 0;
    const r = await seedCalculations(sql, {
      userId: values.user, n, chunk: Number(values.chunk), seed: Number(values.seed),
      onProgress: (done, total) => {
        if (done - last >= total / 20 || done === total) {
          last = done;
          process.stderr.write(`seeded ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}\n`);
        }
      },
    });
    console.log(JSON.stringify(r));
  } finally {
    await sql.end();
  }
}
