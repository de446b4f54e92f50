// Reference atom energies (E0) of a release, with the real xtb (issue 19): a release asked for with
// reference_energies is refused (409, naming each missing atom) until the user's runner has worked
// a batch of the isolated atoms at their ground-state multiplicities; then the manifest carries
// them, and the profile=mace export opens with IsolatedAtom frames that ASE reads back, whose
// energies equal a direct xtb run on each single atom (H, C, N, O). Deleting an atom's calculation
// afterwards changes neither the manifest nor the export.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createBatch } from '../../shared/client-batches.ts';
import type { ReleaseResponse } from '../../shared/contract/datasets.ts';
import { HARTREE_EV } from '../../shared/units.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { newUser, userEnv, type TestUser } from '../support/users.ts';
import { describeWithXtb, directXtb, runRunner } from '../runner/helpers.ts';

const run = promisify(execFile);

/**
 * Ground states of the isolated atoms, written out here (not read from the database's rule), in the
 * manifest's order (by specification, then element).
 */
const ATOMS = [
  { smiles: '[C]', element: 'C', multiplicity: 3 },
  { smiles: '[H]', element: 'H', multiplicity: 2 },
  { smiles: '[N]', element: 'N', multiplicity: 4 },
  { smiles: '[O]', element: 'O', multiplicity: 3 },
];

describeWithXtb('reference atom energies of a release, computed by the runner with the real xtb', () => {
  let user: TestUser;
  let datasetId: string;
  let memberIds: string[];
  let refused: Awaited<ReturnType<typeof call>>;
  let release: ReleaseResponse;
  let dir: string;

  const ask = () => call(`datasets/${datasetId}/releases`, {
    token: user.token,
    body: { license: 'CC0-1.0', authors: ['A. Tester'], calculation_ids: memberIds, reference_energies: true },
  });
  const maceExport = async () => {
    const res = await fetch(`${inject('stack').url}/functions/v1/datasets/${datasetId}/releases/1/export?format=extxyz&profile=mace`,
      { headers: { authorization: `Bearer ${user.token}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qf-e0-'));
    user = await newUser();
    const client = clientFor(user.token);
    // The members: ammonia and formaldehyde (H, C, N, O), single points with GFN2-xTB.
    const molecules = await createBatch(client, { name: 'e0: molecules', task: 'sp', items: [{ smiles: 'N' }, { smiles: 'C=O' }] });
    const first = await runRunner(['--once', '--runner-id', 'e0-runner'], userEnv(user.token));
    expect(first.code, first.stderr).toBe(0);
    const rows = await adminSql()<{ calculation_id: string }[]>`
      select calculation_id from public.batch_items where batch_job_id = ${molecules.batch.id} and status = 'completed'`;
    memberIds = rows.map((r) => r.calculation_id);
    expect(memberIds).toHaveLength(2);
    const made = await call('datasets', { token: user.token, body: { name: 'e0' } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    datasetId = made.body.id;

    refused = await ask();

    // The atoms, under the members' specification (same method and task, default settings).
    await createBatch(client, {
      name: 'e0: isolated atoms', task: 'sp',
      items: ATOMS.map((a) => ({ smiles: a.smiles, name: a.element, multiplicity: a.multiplicity })),
    });
    const second = await runRunner(['--once', '--runner-id', 'e0-runner'], userEnv(user.token));
    expect(second.code, second.stderr).toBe(0);
    const res = await ask();
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    release = res.body;
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the release while atoms are missing, naming each with its multiplicity, and makes none', async () => {
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    const issues: string[] = refused.body.error.details.map((d: { path: string; issue: string }) => d.issue);
    expect(refused.body.error.details.every((d: { path: string }) => d.path === 'reference_energies')).toBe(true);
    for (const a of ATOMS) expect(issues.some((i) => i.includes(`E0 for ${a.element} (multiplicity ${a.multiplicity}, charge 0)`)), a.element).toBe(true);
    expect(issues).toHaveLength(4);
    // The refused request left nothing: the release that succeeded later is version 1.
    expect(release.release.version).toBe(1);
  });

  it('ships the E0 of each element in the manifest, equal to a direct xtb run on the single atom', () => {
    const e0 = release.manifest.reference_energies;
    expect(e0.missing).toEqual([]);
    expect(e0.atoms.map((a) => [a.element, a.multiplicity])).toEqual(ATOMS.map((a) => [a.element, a.multiplicity]));
    expect(new Set(e0.atoms.map((a) => a.specification))).toEqual(new Set(release.manifest.specifications.map((s) => s.hash)));
    for (const a of ATOMS) {
      const direct = directXtb([{ element: a.element, xyz: [0, 0, 0] }], ['--gfn', '2', '--chrg', '0', '--uhf', String(a.multiplicity - 1)]);
      const got = e0.atoms.find((x) => x.element === a.element)!;
      expect(Math.abs(got.energy_eh - direct.energyEh), `${a.element}: ${got.energy_eh} vs ${direct.energyEh}`).toBeLessThan(1e-9);
    }
  });

  it('writes IsolatedAtom frames first in profile=mace, which ASE reads with the E0 in eV', async () => {
    const text = await maceExport();
    const file = path.join(dir, 'mace.extxyz');
    writeFileSync(file, text);
    const script = `
import json, sys, ase.io
print(json.dumps([{'info': {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in a.info.items()},
                   'symbols': a.get_chemical_symbols()} for a in ase.io.read(sys.argv[1], index=':', format='extxyz')]))
`;
    const frames: { info: Record<string, unknown>; symbols: string[] }[] = JSON.parse((await run('/usr/bin/python3', ['-c', script, file])).stdout);
    expect(frames).toHaveLength(ATOMS.length + memberIds.length);
    const isolated = frames.slice(0, ATOMS.length);
    for (const [i, a] of ATOMS.entries()) {
      const e0 = release.manifest.reference_energies.atoms.find((x) => x.element === a.element)!;
      expect(isolated[i].symbols).toEqual([a.element]);
      expect(isolated[i].info).toMatchObject({ config_type: 'IsolatedAtom', total_charge: 0, total_spin: a.multiplicity });
      expect(isolated[i].info.REF_energy).toBe(e0.energy_eh * HARTREE_EV);
    }
    expect(frames.slice(ATOMS.length).every((f) => f.info.config_type === undefined && f.symbols.length > 1)).toBe(true);
  });

  it('keeps the E0 frozen with the release when an atom\'s calculation is deleted', async () => {
    const before = await maceExport();
    const carbon = release.manifest.reference_energies.atoms.find((a) => a.element === 'C')!;
    const del = await call(`ingest/calculations/${carbon.calculation_id}`, { token: user.token, method: 'DELETE' });
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(await maceExport()).toBe(before);
    const got = await call(`datasets/${datasetId}/releases/1`, { token: user.token });
    expect(got.body.manifest.reference_energies).toEqual(release.manifest.reference_energies);
  });
});
