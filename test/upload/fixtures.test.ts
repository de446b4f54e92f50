// The fixture sample (test/fixtures/jobs, real xtb 6.5.1 output with every documented kind of
// damage) uploaded through the CLI into the real stack: the exact outcome of every job, stored
// values equal to xtb's native files within 1e-8, one molecule for OCC/CCO, the rerun a duplicate;
// then a second run, as the token's user, that finds everything stored and writes nothing.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ChildRun } from '../support/child.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { newUser, serviceEnv, type TestUser } from '../support/users.ts';
import { byPath, FIXTURES, readReport, runUpload, type ReportLine } from './run-upload.ts';

// Each test starts the CLI (node + tsx) at least once: allow for a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

interface Expected {
  outcome: 'created' | 'duplicate' | 'failed_calculation' | 'skipped_running' | 'invalid';
  /** Every warning the report must carry (none when absent). */
  warnings?: RegExp[];
  /** The report's `error`: the reason, or xtb's message for a failed calculation. */
  error?: RegExp;
}

// Derived from ../shared/formats/quantum-forge-jobs.md and the sample's own files.
const EXPECTED: Record<string, Expected> = {
  '2025-03/qf-20250301-00001': { outcome: 'created' }, // water, sp
  '2025-03/qf-20250301-00002': { outcome: 'created' }, // methane, grad
  '2025-03/qf-20250301-00003': { outcome: 'created' }, // ethanol typed OCC
  '2025-03/qf-20250301-00004': { outcome: 'created' }, // ethanol typed CCO, opt: same molecule
  '2025-03/qf-20250301-00005': { outcome: 'created' }, // acetic acid, grad
  '2025-03/qf-20250301-00006': { outcome: 'created' }, // acetate, −1, water
  '2025-03/qf-20250301-00007': { outcome: 'created' }, // ammonium, +1, water
  '2025-03/qf-20250301-00008': { outcome: 'created' }, // methyl radical, multiplicity 2
  '2025-03/qf-20250301-00009': { outcome: 'created' }, // benzene aromatic, opt
  '2025-03/qf-20250301-00010': { outcome: 'created' }, // benzene Kekulé, GFN1: same molecule
  '2025-03/qf-20250302-00011': { outcome: 'created' }, // acetone, grad
  '2025-03/qf-20250302-00012': { outcome: 'created' }, // glycine, opt, water
  '2025-03/qf-20250302-00013': { outcome: 'created', warnings: [/^xtb warning: gfnff_setup: Could not read topology file\.$/] }, // pyridine, GFN-FF
  '2025-03/qf-20250302-00014': { outcome: 'created' }, // phenol, grad
  // GFN0 run that crashed in xtb 6.5.1 (abnormal termination, Fortran allocation error): a failure, stored.
  '2025-03/qf-20250302-00015': { outcome: 'failed_calculation', error: /^abnormal termination of xtb \(.*Cannot allocate memory\)$/ },
  '2025-03/qf-20250302-00016': { outcome: 'duplicate' }, // exact rerun of 00003
  '2025-04/qf-20250401-00017': { outcome: 'created', warnings: [/^results\.json is missing: the result was read from xtb's own files$/] },
  '2025-04/qf-20250401-00018': { outcome: 'failed_calculation', error: /^scf: Self consistent charge iterator did not converge$/ },
  '2025-04/qf-20250401-00019': { outcome: 'skipped_running', error: /no termination line/ },
  '2025-04/qf-20250401-00020': { outcome: 'created', warnings: [/^results\.json is truncated/] },
  '2025-04/qf-20250401-00021': { outcome: 'created', warnings: [/^results\.json: energy_hartree is NaN or infinite$/] },
  '2025-04/qf-20250401-00022': { outcome: 'invalid', error: /^molecule\.smiles: cannot parse the SMILES "C1CC": ring bond 1 is never closed$/ },
  '2025-04/qf-20250401-00023': { outcome: 'created', warnings: [/^results\.json has 3 atoms, input\.xyz has 4; its per-atom data was ignored$/] },
  'legacy/job_0001': { outcome: 'created' }, // schema 1, scc
  'legacy/job_0002': { outcome: 'created' }, // schema 1, grad in water
};
const STORED = Object.entries(EXPECTED).filter(([, e]) => e.outcome === 'created' || e.outcome === 'failed_calculation').map(([p]) => p);

// Independent, minimal readers of xtb's native files (not the parser under test).
const native = (p: string, f: string): string | null => {
  try {
    return readFileSync(path.join(FIXTURES, p, f), 'utf8');
  } catch {
    return null;
  }
};
const lastNumber = (text: string, re: RegExp) => Number([...text.matchAll(re)].pop()![1]);
const numbersOf = (text: string) => text.trim().split(/\r?\n/).map(Number);
const xyzOf = (text: string) => text.trim().split(/\r?\n/).slice(2).map((l) => {
  const [element, x, y, z] = l.trim().split(/\s+/);
  return { element, xyz: [Number(x), Number(y), Number(z)] };
});
const gradientOf = (text: string) => text.split(/\r?\n/).map((l) => l.trim().split(/\s+/))
  .filter((r) => r.length === 3 && /^-?\d/.test(r[0])).map((r) => r.map((x) => Number(x.replace(/D/i, 'E'))));
const near = (a: number | null, b: number, tol = 1e-8) => a !== null && Math.abs(a - b) <= tol;

let user: TestUser;
let first: ChildRun;
let report: Record<string, ReportLine>;
let lines: ReportLine[];
let tmp: string;

beforeAll(async () => {
  user = await newUser();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'qf-upload-fixtures-'));
  const file = path.join(tmp, 'first.jsonl');
  first = await runUpload(['--jobs-root', FIXTURES, '--user-id', user.id, '--report', file], serviceEnv());
  lines = readReport(file);
  report = byPath(lines);
}, 120_000);

describe('upload of the fixture sample', () => {
  it('exits 0 with one report line per job and the summary table', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(lines.map((l) => l.path).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(first.stdout).toMatch(/^created\s+20$/m);
    expect(first.stdout).toMatch(/^duplicate\s+1$/m);
    expect(first.stdout).toMatch(/^failed_calculation\s+2$/m);
    expect(first.stdout).toMatch(/^skipped_running\s+1$/m);
    expect(first.stdout).toMatch(/^invalid\s+1$/m);
    expect(first.stdout).toMatch(/^error\s+0$/m);
    expect(first.stdout).toMatch(/^total\s+25$/m);
    // The month folders are searched, not skipped; the one directory really skipped is named.
    expect(first.stdout).toContain('folders searched for job directories: 3 (2025-03, 2025-04, legacy)');
    expect(first.stdout).toContain('directories without metadata.json and without jobs below (skipped): 1 (2025-04/scratch)');
  });

  it.each(Object.entries(EXPECTED))('%s → %o', (p, e) => {
    const line = report[p];
    expect(line.outcome, JSON.stringify(line)).toBe(e.outcome);
    expect(line.job_id).toBe(p.split('/').pop());
    expect(line.warnings).toHaveLength(e.warnings?.length ?? 0);
    e.warnings?.forEach((w, i) => expect(line.warnings[i]).toMatch(w));
    if (e.error) expect(line.error).toMatch(e.error);
    else expect(line.error).toBeNull();
    const stored = e.outcome === 'created' || e.outcome === 'failed_calculation' || e.outcome === 'duplicate';
    expect(line.calculation_id !== null && line.molecule_id !== null).toBe(stored);
  });

  it('the rerun is the same calculation; OCC/CCO and both benzenes are one molecule each', () => {
    const r = report;
    expect(r['2025-03/qf-20250302-00016'].calculation_id).toBe(r['2025-03/qf-20250301-00003'].calculation_id);
    expect(new Set(['2025-03/qf-20250301-00003', '2025-03/qf-20250301-00004', '2025-03/qf-20250302-00016'].map((p) => r[p].molecule_id)).size).toBe(1);
    expect(r['2025-03/qf-20250301-00009'].molecule_id).toBe(r['2025-03/qf-20250301-00010'].molecule_id);
    expect(new Set(STORED.map((p) => r[p].calculation_id)).size).toBe(STORED.length);
  });

  it('stores 22 calculations of 20 molecules, with atoms for the completed ones', async () => {
    const counts = await userCounts(user.id);
    const atoms = STORED.filter((p) => EXPECTED[p].outcome === 'created').reduce((n, p) => n + xyzOf(native(p, 'input.xyz')!).length, 0);
    expect(counts).toMatchObject({ calculations: 22, molecules: 20, atomic_properties: atoms });
    const ethanol = await adminSql()`select canonical_smiles, formula, input_smiles from public.molecules where id = ${report['2025-03/qf-20250301-00004'].molecule_id}`;
    expect(ethanol).toEqual([{ canonical_smiles: 'CCO', formula: 'C2H6O', input_smiles: 'OCC' }]);
  });

  it.each(STORED)('%s: stored values equal the native files within 1e-8', async (p) => {
    const [calc] = await adminSql()`select * from public.calculations where id = ${report[p].calculation_id}`;
    expect(calc.user_id).toBe(user.id);
    expect(calc.source).toBe(`upload:${p}`);
    const atoms = await adminSql()`select * from public.atomic_properties where calculation_id = ${calc.id} order by atom_index`;
    const out = native(p, 'xtb.out')!;
    if (EXPECTED[p].outcome === 'failed_calculation') {
      expect(calc.status).toBe('failed');
      expect(calc.error_message).toMatch(EXPECTED[p].error!);
      expect(calc.total_energy_eh).toBeNull();
      expect(atoms).toEqual([]);
      return;
    }
    expect(calc.status).toBe('completed');
    expect(near(calc.total_energy_eh, lastNumber(out, /\| TOTAL ENERGY\s+(\S+) Eh/g))).toBe(true);
    if (calc.method !== 'GFN-FF') expect(near(calc.homo_lumo_gap_ev, lastNumber(out, /\| HOMO-LUMO GAP\s+(\S+) eV/g))).toBe(true);
    else expect(calc.homo_lumo_gap_ev).toBeNull();
    const geometry = xyzOf(native(p, calc.task === 'opt' ? 'xtbopt.xyz' : 'input.xyz')!);
    const charges = numbersOf(native(p, 'charges') ?? native(p, 'gfnff_charges')!);
    const gradientText = native(p, 'gradient');
    const gradient = gradientText ? gradientOf(gradientText) : null;
    expect(atoms).toHaveLength(geometry.length);
    atoms.forEach((a, i) => {
      expect(a.element).toBe(geometry[i].element);
      [a.x_ang, a.y_ang, a.z_ang].forEach((v, k) => expect(near(v, geometry[i].xyz[k]), `${p} atom ${i} xyz`).toBe(true));
      expect(near(a.partial_charge_e, charges[i]), `${p} atom ${i} charge`).toBe(true);
      if (gradient) [a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr].forEach((v, k) => expect(near(v, gradient[i][k]), `${p} atom ${i} gradient`).toBe(true));
      else expect(a.grad_x_eh_bohr).toBeNull();
    });
    if (calc.task === 'opt') {
      const gnorm = Number(native(p, 'xtbopt.xyz')!.split(/\r?\n/)[1].trim().split(/\s+/)[3]);
      expect(near(calc.gradient_norm_eh_bohr, gnorm)).toBe(true);
    }
    // A grad task stores the gradient norm xtb printed.
    if (calc.task === 'grad') expect(calc.gradient_norm_eh_bohr, p).toBe(lastNumber(out, /\| GRADIENT NORM\s+(\S+) Eh/g));
  });
});

describe('a second run over the same tree', () => {
  it('finds every stored job already there, as the token\'s user, and writes nothing', async () => {
    const before = await userCounts(user.id);
    const [{ n: eventsBefore }] = await adminSql()`
      select count(*)::int as n from public.event_logs where user_id = ${user.id} and event_type <> 'performance_metric'`;
    const file = path.join(tmp, 'second.jsonl');
    // As the user's own token this time (no --user-id): the rows are the same user's, so all duplicates.
    const second = await runUpload(['--jobs-root', FIXTURES, '--report', file], { SUPABASE_URL: inject('stack').url, SUPABASE_ACCESS_TOKEN: user.token });
    expect(second.code, second.stderr).toBe(0);
    const again = byPath(readReport(file));
    for (const [p, e] of Object.entries(EXPECTED)) {
      // Stored jobs are found again; a failed calculation stays `failed_calculation`, marked already stored.
      const expected = e.outcome === 'created' ? 'duplicate' : e.outcome;
      expect(again[p]?.outcome, p).toBe(expected);
      expect(again[p].already_stored, p).toBe(['created', 'duplicate', 'failed_calculation'].includes(e.outcome));
      expect(again[p].calculation_id).toBe(report[p].calculation_id);
      expect(again[p].molecule_id).toBe(report[p].molecule_id);
    }
    expect(second.stdout).toMatch(/^duplicate\s+21$/m);
    expect(second.stdout).toMatch(/^failed_calculation\s+2  \(2 already stored\)$/m);
    const after = await userCounts(user.id);
    // The only new rows anywhere are the requests' own performance_metric events.
    expect({ ...after, event_logs: before.event_logs }).toEqual(before);
    const [{ n: eventsAfter }] = await adminSql()`
      select count(*)::int as n from public.event_logs where user_id = ${user.id} and event_type <> 'performance_metric'`;
    expect(eventsAfter).toBe(eventsBefore);
  });
});
