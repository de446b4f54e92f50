// Writes a tree of N synthetic Quantum Forge job directories by copying real fixture jobs
// (test/fixtures/jobs) round-robin and perturbing each copy, so that no two jobs are duplicates:
//   - input.xyz: job i moves its coordinates by the base-99 digits of i+1, one digit per coordinate,
//     in steps of 1e-6 Å (at most 9.8e-5 Å: below the parser's 1e-4 Å cross-checks, above the
//     geometry hash's 1e-6 Å rounding), so every copy has its own identity;
//   - xtb.out: TOTAL ENERGY moves by (i mod 500 + 1) nEh (below the 1e-6 Eh cross-checks);
//   - metadata.json: job_id follows the new directory name.
// Everything else is copied byte for byte, so each copy keeps its source's outcome and warnings
// (running, failed, bad SMILES, truncated results.json, …). Jobs go 1,000 to a directory, each
// directory also holding a `scratch` directory that is not a job.
//
//   npx tsx bench/make-jobs.ts --out DIR --count N [--source DIR]
//
// With --distinct-molecules, every job is instead a new molecule (bench/lib/distinct-molecules.ts):
// metadata.json with its SMILES and formula, input.xyz and charges with its atoms, and the water
// single point's xtb.out (energy perturbed), the worst case of a first upload for the server.
import { mkdir, opendir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliArgs, exitOnCliError, usageExit, wholeNumberArg } from '../scripts/lib/cli-args.ts';
import { loadRDKit } from '../shared/chem/rdkit.ts';
import { walkJobs } from '../shared/xtb/index.ts';
import { distinctMolecules, zigzag } from './lib/distinct-molecules.ts';
import { FIXTURE_JOBS } from '../test/support/fixtures.ts';

export const JOBS_PER_DIR = 1000;
const STEP_A = 1e-6;
const BASE = 99;

interface SourceJob {
  path: string;
  files: Map<string, Buffer>;
}

async function loadSources(root: string): Promise<SourceJob[]> {
  const jobs: SourceJob[] = [];
  for await (const ev of walkJobs(root)) {
    if (ev.kind !== 'job') continue;
    const files = new Map<string, Buffer>();
    for await (const entry of await opendir(ev.dir)) {
      if (entry.isFile()) files.set(entry.name, await readFile(path.join(ev.dir, entry.name)));
    }
    jobs.push({ path: ev.path, files });
  }
  return jobs.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The per-coordinate shifts of copy `i`: the base-99 digits of i+1, in units of 1e-6 Å. */
export function shiftDigits(i: number, coordinates: number): number[] {
  const digits = new Array<number>(coordinates).fill(0);
  let n = i + 1;
  for (let k = 0; k < coordinates && n > 0; k++) {
    digits[k] = n % BASE;
    n = Math.floor(n / BASE);
  }
  if (n > 0) throw new Error(`copy ${i} needs more coordinates than ${coordinates} to be unique`);
  return digits;
}

function perturbXyz(text: string, i: number): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const n = Number(lines[0].replace('\uFEFF', '').trim());
  const digits = shiftDigits(i, 3 * n);
  for (let a = 0; a < n; a++) {
    const [element, ...xyz] = lines[2 + a].trim().split(/\s+/);
    const moved = xyz.slice(0, 3).map((v, k) => (Number(v) + digits[3 * a + k] * STEP_A).toFixed(8).padStart(16));
    lines[2 + a] = `${element.padEnd(3)}${moved.join('')}`;
  }
  return lines.join(eol); // a BOM stays where it was, in front of the count
}

function perturbEnergy(text: string, i: number): string {
  const delta = ((i % 500) + 1) * 1e-9;
  const shift = (value: string) => (Number(value) + delta).toFixed(value.split('.')[1]?.length ?? 12);
  return text
    .replace(/(\|\s+TOTAL ENERGY\s+)(-?\d+\.\d+)(\s+Eh)/g, (_, a, v, b) => `${a}${shift(v)}${b}`)
    .replace(/(::\s+total energy\s+)(-?\d+\.\d+)(\s+Eh)/g, (_, a, v, b) => `${a}${shift(v)}${b}`);
}

function renameMetadata(text: string, jobId: string): string {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const meta = JSON.parse(text.slice(bom.length));
  if (meta.schema !== 2) return text; // legacy jobs are named by their directory
  meta.job_id = jobId;
  return bom + JSON.stringify(meta, null, 2) + '\n';
}

/** The directory (relative to the root) of copy `i` of `source`. */
export function jobPath(i: number, source: string): string {
  const base = source.split('/').pop()!;
  return `${String(Math.floor(i / JOBS_PER_DIR)).padStart(4, '0')}/${base}-g${String(i).padStart(7, '0')}`;
}

export interface MakeJobsOptions {
  out: string;
  count: number;
  source?: string;
  /** Directories written at once. */
  parallel?: number;
}

export async function makeJobs(o: MakeJobsOptions): Promise<{ jobs: number; sources: number }> {
  const sources = await loadSources(o.source ?? FIXTURE_JOBS);
  if (sources.length === 0) throw new Error(`no jobs below ${o.source ?? FIXTURE_JOBS}`);
  const writeOne = async (i: number) => {
    const src = sources[i % sources.length];
    const rel = jobPath(i, src.path);
    const dir = path.join(o.out, rel);
    await mkdir(dir, { recursive: true });
    if (i % JOBS_PER_DIR === 0) {
      await mkdir(path.join(o.out, rel.split('/')[0], 'scratch'), { recursive: true });
      await writeFile(path.join(o.out, rel.split('/')[0], 'scratch', 'notes.txt'), 'not a job\n');
    }
    for (const [name, bytes] of src.files) {
      let out: Buffer | string = bytes;
      if (name === 'input.xyz') out = perturbXyz(bytes.toString('utf8'), i);
      else if (name === 'xtb.out') out = perturbEnergy(bytes.toString('utf8'), i);
      else if (name === 'metadata.json') out = renameMetadata(bytes.toString('utf8'), rel.split('/').pop()!);
      await writeFile(path.join(dir, name), out);
    }
  };
  let next = 0;
  const workers = Array.from({ length: o.parallel ?? 32 }, async () => {
    while (next < o.count) await writeOne(next++);
  });
  await Promise.all(workers);
  return { jobs: o.count, sources: sources.length };
}

/** `count` jobs of distinct molecules, each a GFN2 single point (see the header). */
export async function makeDistinctMoleculeJobs(o: { out: string; count: number; offset?: number }): Promise<{ jobs: number }> {
  const water = path.join(FIXTURE_JOBS, '2025-03/qf-20250301-00001');
  const xtbOut = await readFile(path.join(water, 'xtb.out'), 'utf8');
  const molecules = distinctMolecules(await loadRDKit(), o.count, o.offset ?? 0);
  for (const [i, m] of molecules.entries()) {
    const rel = `${String(Math.floor(i / JOBS_PER_DIR)).padStart(4, '0')}/qf-distinct-${String(i).padStart(7, '0')}`;
    const dir = path.join(o.out, rel);
    await mkdir(dir, { recursive: true });
    const atoms = zigzag(m.symbols);
    const meta = {
      schema: 2, job_id: rel.split('/')[1], name: null, smiles: m.smiles, formula: m.formula, charge: 0, multiplicity: 1,
      method: 'GFN2-xTB', task: 'sp', solvent: null, created_at: '2025-03-01T09:00:00Z', tags: ['bench'],
    };
    await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta, null, 2) + '\n');
    await writeFile(path.join(dir, 'input.xyz'),
      `${atoms.length}\n\n${atoms.map((a) => `${a.element.padEnd(3)}${a.xyz.map((v) => v.toFixed(8).padStart(16)).join('')}`).join('\n')}\n`);
    await writeFile(path.join(dir, 'charges'), atoms.map((a) => (a.element === 'H' ? '    0.05000000' : '   -0.05000000')).join('\n') + '\n');
    await writeFile(path.join(dir, 'xtb.out'), perturbEnergy(xtbOut, i));
  }
  return { jobs: molecules.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const USAGE = [
    'usage: npx tsx bench/make-jobs.ts --out DIR --count N [--source DIR | --distinct-molecules]',
    '  --out DIR      where to write the job tree',
    '  --count N      how many job directories to write',
    '  --source DIR   the jobs to copy (default: test/fixtures/jobs)',
    '  --distinct-molecules  write jobs of new molecules instead (chains of 2-80 heavy atoms)',
    '  -h, --help     print this help',
  ].join('\n');
  const { values } = cliArgs('make-jobs', USAGE, process.argv.slice(2), {
    options: { out: { type: 'string' }, count: { type: 'string' }, source: { type: 'string' }, 'distinct-molecules': { type: 'boolean' } },
  });
  if (!values.out) usageExit('make-jobs', USAGE, '--out is required');
  if (!values.count) usageExit('make-jobs', USAGE, '--count is required');
  let count = 0;
  try {
    count = wholeNumberArg('--count', values.count, 1, Number.MAX_SAFE_INTEGER)!;
  } catch (err) {
    exitOnCliError(err, 'make-jobs', USAGE);
    throw err;
  }
  const t0 = performance.now();
  if (values['distinct-molecules']) {
    const made = await makeDistinctMoleculeJobs({ out: path.resolve(values.out), count });
    console.log(`wrote ${made.jobs} jobs of distinct molecules to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    process.exit(0);
  }
  const made = await makeJobs({ out: path.resolve(values.out), count, ...(values.source ? { source: path.resolve(values.source) } : {}) });
  console.log(`wrote ${made.jobs} jobs (copies of ${made.sources} fixture jobs) to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
