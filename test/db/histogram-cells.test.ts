// The /query/stats histograms kept by triggers (histogram_cells): after inserts, value and status
// updates, a change of a molecule's n_atoms, deletes and a molecule's cascade, the kept cells equal
// a recount from the tables, the kept blocks are those cells summed per 32, and
// calculation_histograms bins exactly those cells.
import { describe, expect, it } from 'vitest';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';
import { newUser } from '../support/users.ts';

type Cells = Record<string, number>;

/**
 * The kept cells of a user, as "quantity cell" -> count (slots summed, empty cells left out),
 * after checking that the kept blocks are those cells summed over floor(cell / 32).
 */
async function kept(userId: string): Promise<Cells> {
  const rows = await adminSql()`
    select quantity, cell::text, sum(n)::int as n from public.histogram_cells
     where user_id = ${userId} group by 1, 2 having sum(n) <> 0`;
  const cells = Object.fromEntries(rows.map((r) => [`${r.quantity} ${r.cell}`, r.n]));
  const blocks = await adminSql()`
    select quantity, block::text, sum(n)::int as n from public.histogram_blocks
     where user_id = ${userId} group by 1, 2 having sum(n) <> 0`;
  const summed: Cells = {};
  for (const [key, n] of Object.entries(cells)) {
    const [q, cell] = key.split(' ');
    const block = `${q} ${Math.floor(Number(cell) / 32)}`;
    summed[block] = (summed[block] ?? 0) + n;
  }
  expect(Object.fromEntries(blocks.map((r) => [`${r.quantity} ${r.block}`, r.n]))).toEqual(summed);
  return cells;
}

/** The same cells counted from calculations and molecules. */
async function recount(userId: string): Promise<Cells> {
  const rows = await adminSql()`
    select q.quantity, q.cell::text, count(*)::int as n
      from public.calculations c
      join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
     cross join lateral (values
       ('energy_per_atom_eh', floor(c.total_energy_eh / m.n_atoms / public.histogram_cell_width('energy_per_atom_eh'))::bigint),
       ('homo_lumo_gap_ev', floor(c.homo_lumo_gap_ev / public.histogram_cell_width('homo_lumo_gap_ev'))::bigint)) q (quantity, cell)
     where c.user_id = ${userId} and q.cell is not null
     group by 1, 2`;
  return Object.fromEntries(rows.map((r) => [`${r.quantity} ${r.cell}`, r.n]));
}

async function addMolecule(userId: string, nAtoms: number): Promise<string> {
  const [m] = await asRole(API_ROLE, userId, (tx) => tx`
    insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
    values ('C', ${fakeInchikey()}, 'CH4', 'C', ${nAtoms}) returning id`);
  return m.id;
}

/** n calculations of a molecule in one statement: energies and gaps spread, every 7th without a gap. */
async function addCalculations(userId: string, moleculeId: string, n: number, from: number, status = 'completed'): Promise<string[]> {
  const rows = await asRole(API_ROLE, userId, (tx) => tx`
    insert into public.calculations (molecule_id, method, task, status, total_energy_eh, homo_lumo_gap_ev, geometry_sha256)
    select ${moleculeId}, 'GFN2-xTB', 'sp', ${status},
           case when ${status} = 'completed' then -4.0 - (g % 97) * 0.00731 end,
           case when ${status} = 'completed' and g % 7 <> 0 then 3.0 + (g % 53) * 0.0517 end,
           encode(sha256((${moleculeId}::text || g)::bytea), 'hex')
      from generate_series(${from}::int, ${from + n - 1}::int) as g
    returning id`);
  return rows.map((r) => r.id as string);
}

describe('histogram_cells', () => {
  it('equals a recount after inserts, updates, an n_atoms change, deletes and a molecule cascade', async () => {
    const user = await newUser();
    const a = await addMolecule(user.id, 5);
    const b = await addMolecule(user.id, 12);
    const inA = await addCalculations(user.id, a, 400, 1);
    const inB = await addCalculations(user.id, b, 300, 1);
    const pending = await addCalculations(user.id, b, 50, 1000, 'pending');
    const afterInsert = await kept(user.id);
    expect(Object.keys(afterInsert).length).toBeGreaterThan(20);
    expect(afterInsert).toEqual(await recount(user.id));

    await asRole(API_ROLE, user.id, async (tx) => {
      // Pending -> completed with values, new values on completed rows, a status-free tag change.
      await tx`update public.calculations set status = 'completed', total_energy_eh = -7.5, homo_lumo_gap_ev = 1.25
                where id = any(${pending}::uuid[])`;
      await tx`update public.calculations set total_energy_eh = total_energy_eh - 0.333, homo_lumo_gap_ev = null
                where id = any(${inA.slice(0, 120)}::uuid[])`;
      await tx`update public.calculations set tags = '{moved}' where id = any(${inB.slice(0, 50)}::uuid[])`;
    });
    expect(await kept(user.id)).toEqual(await recount(user.id));
    expect(await kept(user.id)).not.toEqual(afterInsert);

    await asRole(API_ROLE, user.id, (tx) => tx`update public.molecules set n_atoms = 6 where id = ${a}`);
    expect(await kept(user.id)).toEqual(await recount(user.id));

    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.calculations where id = any(${inA.slice(100, 250)}::uuid[])`);
    expect(await kept(user.id)).toEqual(await recount(user.id));

    // Deleting a molecule deletes its calculations by cascade, after the molecule row is gone.
    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.molecules where id = ${b}`);
    expect(await kept(user.id)).toEqual(await recount(user.id));

    await asRole(API_ROLE, user.id, (tx) => tx`delete from public.molecules where id = ${a}`);
    expect(await kept(user.id)).toEqual({});
  });

  it('keeps another user\'s cells apart, and a user sees only their own', async () => {
    const alice = await newUser();
    const bob = await newUser();
    await addCalculations(alice.id, await addMolecule(alice.id, 3), 30, 1);
    await addCalculations(bob.id, await addMolecule(bob.id, 4), 20, 1);
    expect(await kept(alice.id)).toEqual(await recount(alice.id));
    expect(await kept(bob.id)).toEqual(await recount(bob.id));
    const seen = await asRole(API_ROLE, bob.id, (tx) => tx`select distinct user_id from public.histogram_cells`);
    expect(seen).toEqual([{ user_id: bob.id }]);
    const seenBlocks = await asRole(API_ROLE, bob.id, (tx) => tx`select distinct user_id from public.histogram_blocks`);
    expect(seenBlocks).toEqual([{ user_id: bob.id }]);
  });

  it('refresh_histogram_cells rebuilds the same cells', async () => {
    const user = await newUser();
    await addCalculations(user.id, await addMolecule(user.id, 7), 60, 1);
    const before = await kept(user.id);
    await adminSql()`select public.refresh_histogram_cells()`;
    expect(await kept(user.id)).toEqual(before);
  });

  it('calculation_histograms bins exactly the kept cells, whole cells per bin', async () => {
    const user = await newUser();
    await addCalculations(user.id, await addMolecule(user.id, 9), 500, 1);
    const cells = await recount(user.id);
    for (const bins of [1, 7, 20, 1000]) {
      const [{ h }] = await asRole(API_ROLE, user.id, (tx) => tx`select public.calculation_histograms(${bins}::int) as h`);
      for (const quantity of ['energy_per_atom_eh', 'homo_lumo_gap_ev']) {
        const hist = h[quantity];
        const [{ width }] = await adminSql()`select public.histogram_cell_width(${quantity}) as width`;
        const first = Math.round(hist.edges[0] / width);
        const k = Math.round((hist.edges[1] - hist.edges[0]) / width);
        expect(k).toBeGreaterThanOrEqual(1);
        expect(hist.edges).toHaveLength(bins + 1);
        const expected = Array(bins).fill(0);
        for (const [key, n] of Object.entries(cells)) {
          const [q, cell] = key.split(' ');
          if (q === quantity) expected[Math.floor((Number(cell) - first) / k)] += n;
        }
        expect(hist.counts).toEqual(expected);
        expect(hist.count).toBe(expected.reduce((x, y) => x + y, 0));
        const occupied = Object.keys(cells).filter((key) => key.startsWith(quantity)).map((key) => Number(key.split(' ')[1]));
        expect(hist.min).toBeCloseTo(Math.min(...occupied) * width, 9);
        expect(hist.max).toBeCloseTo((Math.max(...occupied) + 1) * width, 9);
      }
    }
  });
});
