// Same structure, found: a stored conformer sent again rotated by 37°, translated and with its
// atoms in another order is a new calculation (its geometry hash differs) marked
// `same_structure_as` the stored one; `unique_structures=true` keeps one of the two; deleting the
// representative hands its role on. 1,000 distinct conformers made from the fixture sample get no
// mark at all: each fixture job copied round-robin (as bench/make-jobs.ts copies jobs) with every
// coordinate moved by up to 0.05 Å, far above the 0.001 Å tolerance, and a copy drawn again when it
// would come within twice the tolerance of another copy of its molecule (O2 has one distance: 42
// random bond lengths in 0.2 Å do collide).
import { beforeAll, describe, expect, it } from 'vitest';
import type { IngestCalculationInput } from '../../shared/contract/ingest.ts';
import type { Geometry } from '../../shared/contract/common.ts';
import { MoleculeCache } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';
import { structureKey } from '../../shared/structure-key.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { parsedFixtureJobs } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { rng as random } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

type Vec = [number, number, number];

/** Rotation by `deg` about `axis` (Rodrigues), then a translation. */
function rigidMotion(g: Geometry, axis: Vec, deg: number, shift: Vec): Geometry {
  const n = Math.hypot(...axis);
  const [kx, ky, kz] = axis.map((v) => v / n);
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t), v = 1 - c;
  const r = [
    [c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s],
    [ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s],
    [kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v],
  ];
  return g.map(({ element, xyz: [x, y, z] }) => ({
    element,
    xyz: r.map((row, i) => row[0] * x + row[1] * y + row[2] * z + shift[i]) as Vec,
  }));
}

/** A stored job's calculation as a new one on `geometry`: per-atom data and provenance left out. */
const onGeometry = (c: IngestCalculationInput, geometry: Geometry): IngestCalculationInput => ({
  ...c, geometry, charges: null, gradient: null, final_geometry: null, provenance: null,
});

let sources: IngestCalculationInput[];
beforeAll(async () => {
  // Every job the store accepts (one has a SMILES RDKit cannot parse).
  const rdkit = new MoleculeCache(await loadRDKit());
  sources = (await parsedFixtureJobs()).filter((j) => j.calculation && rdkit.identify(j.calculation.molecule.smiles))
    .map((j) => j.calculation!);
});

/** An ndjson body as objects (a one-line body arrives already parsed). */
const ndjsonLines = (body: unknown): { id: string }[] =>
  typeof body === 'string' ? body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [body as { id: string }];

describe('same structure', () => {
  let user: TestUser;
  let first: { calculation_id: string; molecule_id: string };
  let copy: { calculation_id: string; same_structure_as?: string | null; outcome: string };

  beforeAll(async () => {
    user = await newUser();
    const ethanol = sources.find((c) => c.molecule.smiles === 'OCC' && c.task === 'sp' && c.status === 'completed')!;
    const [stored] = await clientFor(user.token).ingest([ethanol]);
    first = { calculation_id: stored.calculation_id!, molecule_id: stored.molecule_id! };
    const moved = rigidMotion(ethanol.geometry, [1, 2, 3], 37, [3.2, -1.1, 0.7]);
    const order = moved.map((_, i) => i).reverse();
    [copy] = await clientFor(user.token).ingest([onGeometry(ethanol, order.map((i) => moved[i]))]) as typeof copy[];
  });

  it('creates the rotated, translated and permuted copy as its own row, marked same_structure_as the stored one', async () => {
    expect(copy.outcome).toBe('created');
    expect(copy.calculation_id).not.toBe(first.calculation_id);
    expect(copy.same_structure_as).toBe(first.calculation_id);
    const [row] = await adminSql()`select same_structure_as from public.calculations where id = ${copy.calculation_id}`;
    expect(row.same_structure_as).toBe(first.calculation_id);
    const listed = await call(`query/calculations?molecule_id=${first.molecule_id}`, { token: user.token });
    expect(listed.body.data.map((r: { id: string; same_structure_as: string | null }) => [r.id, r.same_structure_as])).toEqual([
      [first.calculation_id, null], [copy.calculation_id, first.calculation_id],
    ]);
  });

  it('unique_structures=true returns one of them, in the list and in the export', async () => {
    const unique = await call(`query/calculations?molecule_id=${first.molecule_id}&unique_structures=true`, { token: user.token });
    expect(unique.body.data.map((r: { id: string }) => r.id)).toEqual([first.calculation_id]);
    const all = await call(`query/calculations?molecule_id=${first.molecule_id}&unique_structures=false`, { token: user.token });
    expect(all.body.data).toHaveLength(2);
    const ndjson = await call(`query/export?format=ndjson&molecule_id=${first.molecule_id}&unique_structures=true`, { token: user.token });
    expect(ndjsonLines(ndjson.body).map((l) => l.id)).toEqual([first.calculation_id]);
  });

  it('hands the representative\'s role to the copy when the representative is deleted', async () => {
    const res = await call(`ingest/calculations/${first.calculation_id}`, { method: 'DELETE', token: user.token });
    expect(res.status).toBe(200);
    const [row] = await adminSql()`select same_structure_as from public.calculations where id = ${copy.calculation_id}`;
    expect(row.same_structure_as).toBeNull();
  });
});

describe('1,000 distinct conformers from the fixture sample', () => {
  it('are all created and none is marked', async () => {
    const user = await newUser();
    const rnd = random(20261202);
    // Copies are kept apart within what the store compares: formula, settings, charge, multiplicity.
    const keys = new Map<string, number[][]>();
    const group = (c: IngestCalculationInput) => JSON.stringify([c.geometry.map((a) => a.element).sort(), c.method, c.task,
      c.solvent ?? null, c.charge ?? 0, c.multiplicity ?? 1, c.xtb_args ?? []]);
    const apart = (a: number[], b: number[]) => Math.max(...a.map((d, k) => Math.abs(d - b[k]))) > 0.002;
    const conformers = Array.from({ length: 1000 }, (_, i) => {
      const src = sources[i % sources.length];
      const seen = keys.get(group(src)) ?? [];
      keys.set(group(src), seen);
      for (;;) {
        const geometry = src.geometry.map((a) => ({ element: a.element, xyz: a.xyz.map((v) => v + (rnd() - 0.5) * 0.1) as Vec }));
        const key = structureKey(geometry)!;
        if (seen.every((other) => apart(key, other))) {
          seen.push(key);
          return onGeometry(src, geometry);
        }
      }
    });
    const client = clientFor(user.token);
    const results = [];
    // In four requests, so conformers are compared both with stored rows and within a request.
    for (let i = 0; i < conformers.length; i += 250) results.push(...await client.ingest(conformers.slice(i, i + 250)));
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1000);
    expect(results.filter((r) => r.same_structure_as)).toEqual([]);
    const [marked] = await adminSql()`
      select count(*) filter (where same_structure_as is not null)::int as marked, count(structure_distances)::int as keyed
        from public.calculations where user_id = ${user.id}`;
    expect(marked).toEqual({ marked: 0, keyed: 1000 });
  });

  it('200 of them sent again, each rotated and translated, are each marked as their first', async () => {
    const user = await newUser();
    const rnd = random(7);
    const conformers = Array.from({ length: 200 }, (_, i) => {
      const src = sources[i % sources.length];
      return onGeometry(src, src.geometry.map((a) => ({ element: a.element, xyz: a.xyz.map((v) => v + (rnd() - 0.5) * 0.1) as Vec })));
    });
    const client = clientFor(user.token);
    const stored = await client.ingest(conformers);
    const again = await client.ingest(conformers.map((c, i) => onGeometry(c, rigidMotion(c.geometry, [i % 3, 1, 2], 10 + i, [i * 0.01, 0, -1]))));
    expect(again.map((r) => r.outcome)).toEqual(stored.map(() => 'created'));
    expect(again.map((r) => r.same_structure_as)).toEqual(stored.map((r) => r.calculation_id));
  });
});
