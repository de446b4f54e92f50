// /export: the extxyz of the fixture jobs is read back by ASE itself (Debian's python3-ase) and
// matches the database to 1e-6 (energies in eV, forces in eV/Å, positions, charges); REF_ keys;
// ndjson and csv; `limit` with X-Next-Cursor; and a client that hangs up stops the query.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedCalculations } from '../../bench/seed-calculations.ts';
import { exportStream } from '../../shared/client-query.ts';
import { CSV_COLUMNS } from '../../shared/contract/query.ts';
import { gradientToForceEvA, hartreeToEv, auDipoleToEAngstrom } from '../../shared/units.ts';
import { parseJobFiles, readJobFiles, walkJobs } from '../../shared/xtb/index.ts';
import { clientFor } from '../support/client.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';
import { adminSql } from '../support/db.ts';
import { calcOf } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

let user: TestUser;
let dir: string;
let stored: Map<string, { calc: any; atoms: any[] }>;

const exportText = async (params: string, token = user.token) => {
  const res = await fetch(`${inject('stack').url}/functions/v1/query/export?${params}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return { text: await res.text(), headers: res.headers };
};

/** ASE reads the file; each frame comes back as plain JSON. */
async function aseRead(text: string): Promise<any[]> {
  const file = path.join(dir, `frames-${Math.random().toString(36).slice(2)}.extxyz`);
  writeFileSync(file, text);
  const script = `
import json, sys, ase.io
out = []
for a in ase.io.read(sys.argv[1], index=':'):
    res = dict(a.calc.results) if a.calc is not None else {}
    out.append({
        'info': {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in a.info.items()},
        'symbols': a.get_chemical_symbols(),
        'positions': a.positions.tolist(),
        'pbc': a.pbc.tolist(),
        'results': {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in res.items()},
        'arrays': {k: v.tolist() for k, v in a.arrays.items() if k not in ('numbers', 'positions')},
    })
print(json.dumps(out))
`;
  const { stdout } = await run(PYTHON, ['-c', script, file], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6;
const expectClose = (got: number[], want: number[], what: string) => {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    if (!close(g, want[i])) throw new Error(`${what}[${i}]: ${g} vs ${want[i]}`);
  });
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'qf-export-'));
  user = await newUser();
  const items = [];
  for await (const ev of walkJobs(FIXTURES)) {
    if (ev.kind !== 'job') continue;
    const parsed = parseJobFiles(ev.path, readJobFiles(ev.dir));
    if (parsed.calculation) items.push(parsed.calculation);
  }
  const results = await clientFor(user.token).ingest(items);
  expect(results.filter((r) => r.outcome === 'created').length).toBeGreaterThan(15);
  const sql = adminSql();
  const calcs = await sql`select c.*, m.canonical_smiles, m.inchikey from public.calculations c join public.molecules m on m.id = c.molecule_id
    where c.user_id = ${user.id}`;
  const atoms = await sql`select * from public.atomic_properties where user_id = ${user.id} order by calculation_id, atom_index`;
  stored = new Map(calcs.map((c) => [c.id, { calc: c, atoms: atoms.filter((a) => a.calculation_id === c.id) }]));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GET /query/export', () => {
  it('writes extxyz that ASE reads back with the stored values (eV, eV/Å, Å, e)', async () => {
    const { text, headers } = await exportText('format=extxyz');
    expect(headers.get('content-type')).toBe('chemical/x-extxyz; charset=utf-8');
    const frames = await aseRead(text);
    const withAtoms = [...stored.values()].filter((s) => s.atoms.length > 0);
    expect(frames).toHaveLength(withAtoms.length);
    expect(withAtoms.some((s) => s.atoms[0].grad_x_eh_bohr === null)).toBe(true);
    expect(withAtoms.some((s) => s.atoms[0].grad_x_eh_bohr !== null)).toBe(true);
    for (const f of frames) {
      const { calc, atoms } = stored.get(f.info.calc_id)!;
      expect(f.symbols).toEqual(atoms.map((a) => a.element));
      expect(f.pbc).toEqual([false, false, false]);
      expectClose(f.positions.flat(), atoms.flatMap((a) => [a.x_ang, a.y_ang, a.z_ang]), 'positions');
      expect(close(f.results.energy, hartreeToEv(calc.total_energy_eh))).toBe(true);
      if (atoms[0].grad_x_eh_bohr === null) {
        expect(f.results.forces).toBeUndefined();
      } else {
        expectClose(f.results.forces.flat(), atoms.flatMap((a) => [a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr].map(gradientToForceEvA)), 'forces');
      }
      // ASE 3.22 (Debian 12) reads the charges column as initial charges; later versions as results.
      expectClose(f.results.charges ?? f.arrays.initial_charges, atoms.map((a) => a.partial_charge_e), 'charges');
      if (calc.homo_lumo_gap_ev === null) expect(f.info.homo_lumo_gap).toBeUndefined();
      else expect(close(f.info.homo_lumo_gap, calc.homo_lumo_gap_ev)).toBe(true);
      if (calc.dipole_au) expectClose(f.results.dipole, calc.dipole_au.map(auDipoleToEAngstrom), 'dipole');
      expect(f.info).toMatchObject({
        smiles: calc.canonical_smiles, inchikey: calc.inchikey, method: calc.method, task: calc.task,
        solvent: calc.solvent ?? 'gas', charge: calc.charge, multiplicity: calc.multiplicity,
      });
    }
    // The charged and open-shell fixtures keep their charge and multiplicity.
    expect(frames.some((f) => f.info.charge === 1)).toBe(true);
    expect(frames.some((f) => f.info.multiplicity === 2)).toBe(true);
  }, 60_000);

  it('writes REF_energy, REF_forces and REF_charges with ref_keys=true', async () => {
    const { text } = await exportText('format=extxyz&ref_keys=true&task=grad');
    expect(text).toContain('Properties=species:S:1:pos:R:3:REF_forces:R:3:REF_charges:R:1 REF_energy=');
    const frames = await aseRead(text);
    expect(frames.length).toBeGreaterThan(3);
    for (const f of frames) {
      const { calc, atoms } = stored.get(f.info.calc_id)!;
      expect(f.results.energy).toBeUndefined();
      expect(close(f.info.REF_energy, hartreeToEv(calc.total_energy_eh))).toBe(true);
      expectClose(f.arrays.REF_forces.flat(), atoms.flatMap((a) => [a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr].map(gradientToForceEvA)), 'REF_forces');
      expectClose(f.arrays.REF_charges, atoms.map((a) => a.partial_charge_e), 'REF_charges');
    }
  }, 60_000);

  it('writes only the columns that every atom has when stored rows mix them', async () => {
    const mixed = await newUser();
    const [r] = await clientFor(mixed.token).ingest([await calcOf('CCO', { withGradient: true })]);
    // Not something ingest writes: one atom loses its gradient and another its charge.
    await adminSql()`update public.atomic_properties set grad_x_eh_bohr = null, grad_y_eh_bohr = null, grad_z_eh_bohr = null
      where calculation_id = ${r.calculation_id} and atom_index = 2`;
    await adminSql()`update public.atomic_properties set partial_charge_e = null
      where calculation_id = ${r.calculation_id} and atom_index = 4`;
    const { text } = await exportText('format=extxyz', mixed.token);
    const lines = text.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^Properties=species:S:1:pos:R:3 energy=/);
    expect(lines.slice(2).every((l) => l.split(' ').length === 4)).toBe(true);
    const [frame] = await aseRead(text);
    expect(frame.results.forces).toBeUndefined();
    expect(frame.symbols).toHaveLength(9);
  });

  it('writes one calculation per ndjson line with its atoms as arrays, and csv rows without atoms', async () => {
    const { text, headers } = await exportText('format=ndjson&sort=energy');
    expect(headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    // Every calculation: those with an energy in energy order, then the others (failed) in id order.
    const all = [...stored.values()];
    const withEnergy = all.filter((s) => s.calc.total_energy_eh !== null)
      .sort((a, b) => a.calc.total_energy_eh - b.calc.total_energy_eh);
    const without = all.filter((s) => s.calc.total_energy_eh === null).sort((a, b) => (a.calc.id < b.calc.id ? -1 : 1));
    expect(without.length).toBeGreaterThan(0);
    expect(lines.map((l) => l.id)).toEqual([...withEnergy, ...without].map((s) => s.calc.id));
    for (const l of lines) {
      const { calc, atoms } = stored.get(l.id)!;
      expect(l.total_energy_eh).toBe(calc.total_energy_eh);
      if (atoms.length === 0) {
        expect(l.atoms).toBeNull();
        continue;
      }
      expect(l.atoms.elements).toEqual(atoms.map((a) => a.element));
      expect(l.atoms.positions_ang).toEqual(atoms.map((a) => [a.x_ang, a.y_ang, a.z_ang]));
      expect(l.atoms.charges_e).toEqual(atoms.map((a) => a.partial_charge_e));
      expect(l.atoms.gradient_eh_bohr).toEqual(atoms[0].grad_x_eh_bohr === null ? null
        : atoms.map((a) => [a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr]));
    }

    const csv = await exportText('format=csv');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(stored.size + 1);
    const failed = [...stored.values()].find((s) => s.calc.status === 'failed')!;
    const line = rows.find((r) => r.startsWith(failed.calc.id))!.split(',');
    expect(line[CSV_COLUMNS.indexOf('status')]).toBe('failed');
    expect(line[CSV_COLUMNS.indexOf('total_energy_eh')]).toBe('');
  });

  it('pages with limit and X-Next-Cursor, and the client follows it to the same rows', async () => {
    const whole = (await exportText('format=ndjson&sort=gap&order=desc')).text;
    const first = await exportText('format=ndjson&sort=gap&order=desc&limit=4');
    expect(first.text.trimEnd().split('\n')).toHaveLength(4);
    expect(first.headers.get('x-next-cursor')).toBeTruthy();
    const chunks: Buffer[] = [];
    for await (const chunk of exportStream({ url: inject('stack').url, token: user.token, params: { format: 'ndjson', sort: 'gap', order: 'desc', limit: 4 } })) {
      chunks.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(chunks).toString()).toBe(whole);
    const last = await exportText(`format=ndjson&limit=1000&cursor=${first.headers.get('x-next-cursor')}`);
    expect(last.headers.get('x-next-cursor')).toBeNull();
    expect(first.text + last.text).toBe(whole);
  });

  it('streams from a server-side cursor and stops the query when the client hangs up', async () => {
    const big = await newUser();
    await seedCalculations(adminSql(), { userId: big.id, n: 6000, chunk: 3000 });
    const sql = adminSql();
    const exporting = async () => (await sql`
      select count(*)::int as n from pg_stat_activity
       where query like '%qf:export%' and query not like '%pg_stat_activity%'
         and state in ('active', 'idle in transaction')`)[0].n;
    const controller = new AbortController();
    const res = await fetch(`${inject('stack').url}/functions/v1/query/export?format=extxyz`, {
      headers: { authorization: `Bearer ${big.token}` }, signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(value!.byteLength).toBeGreaterThan(0);
    // The client reads no further: the export waits in its open cursor instead of running ahead.
    await new Promise((r) => setTimeout(r, 500));
    expect(await exporting()).toBe(1);
    controller.abort();
    await reader.cancel().catch(() => {});
    let left = 1;
    for (let i = 0; i < 50 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await exporting();
    }
    expect(left).toBe(0);
  }, 120_000);
});
