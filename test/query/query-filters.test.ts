// /calculations filters, alone and combined, and every sort: each answer (paged with a small limit,
// so cursors carry the filters along) equals the same selection written directly in SQL.
// Also /molecules filters, /molecules/:id and /calculations/:id.
import type postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calcOf, type CalcOptions } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';
import { allPages } from './query-helpers.ts';

const MOLECULES = ['O', 'C', 'CCO', 'COC', 'CC(N)=O', 'c1ccncc1', 'ClCCl'];
const METHODS = ['GFN2-xTB', 'GFN1-xTB', 'GFN-FF', 'GFN0-xTB'] as const;
const TASKS = ['sp', 'grad', 'opt'] as const;
const SOLVENTS = [null, 'water', 'methanol'];

let user: TestUser;
let boundary: string;
let batchId: string;
let ethanolId: string;

function spec(i: number): CalcOptions & { smiles: string } {
  const method = METHODS[i % 4];
  return {
    smiles: MOLECULES[i % MOLECULES.length],
    seed: i,
    method,
    task: TASKS[i % 3],
    solvent: SOLVENTS[(i >> 1) % 3],
    status: i % 11 === 5 ? 'failed' : i % 13 === 7 ? 'running' : 'completed',
    energy: -10 - ((i * 37) % 29) * 0.5 - i * 1e-4,
    gap: method === 'GFN-FF' ? null : 2 + ((i * 7) % 17) * 0.5,
    dipole: method === 'GFN-FF' ? null : ((i * 5) % 13) * 0.3,
    withGradient: i % 3 === 1,
    tags: i % 3 === 0 ? ['alpha'] : i % 4 === 1 ? ['beta', 'alpha'] : [],
    name: i % 2 ? 'Mixed Case Name' : undefined,
  };
}

beforeAll(async () => {
  user = await newUser();
  const client = clientFor(user.token);
  const first = await Promise.all(Array.from({ length: 60 }, (_, i) => spec(i)).map((s) => calcOf(s.smiles, s)));
  const r1 = await client.ingest(first);
  expect(r1.every((r) => r.outcome === 'created')).toBe(true);

  const sql = adminSql();
  [{ id: ethanolId }] = await sql`select id from public.molecules where user_id = ${user.id} and canonical_smiles = 'CCO'`;
  const items = await asRole(API_ROLE, user.id, async (tx) => {
    const [job] = await tx`insert into public.batch_jobs (name) values ('filters') returning id`;
    return { job: job.id as string, items: await tx`insert into public.batch_items (batch_job_id, molecule_id)
      select ${job.id}, ${ethanolId} from generate_series(1, 3) returning id` };
  });
  batchId = items.job;

  [{ boundary }] = await sql`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as boundary`;
  await new Promise((r) => setTimeout(r, 20));
  const second = await Promise.all(Array.from({ length: 25 }, (_, k) => spec(60 + k)).map((s) => calcOf(s.smiles, s)));
  // Three of the second request's ethanol calculations belong to the batch's items.
  let linked = 0;
  for (const s of second) {
    if (linked < 3 && s.molecule.smiles === 'CCO') s.batch_item_id = items.items[linked++].id;
  }
  const r2 = await client.ingest(second);
  expect(r2.every((r) => r.outcome === 'created')).toBe(true);
  expect(linked).toBe(3);
  await sql`update public.molecules set tags = '{aromatic}' where user_id = ${user.id} and canonical_smiles = 'c1ccncc1'`;
});

type Where = (sql: postgres.Sql) => postgres.PendingQuery<postgres.Row[]>;
const SORT_COLUMN = { created_at: 'created_at', energy: 'total_energy_eh', gap: 'homo_lumo_gap_ev', dipole: 'dipole_debye' } as const;

async function expected(where: Where, sort: keyof typeof SORT_COLUMN = 'created_at', order: 'asc' | 'desc' = 'asc'): Promise<string[]> {
  const sql = adminSql();
  const col = sql`c.${sql(SORT_COLUMN[sort])}`;
  const rows = await sql`
    select c.id from public.calculations c join public.molecules m on m.id = c.molecule_id
     where c.user_id = ${user.id} and ${where(sql)}
     order by ${col} ${order === 'asc' ? sql`asc` : sql`desc`} nulls last, c.id ${order === 'asc' ? sql`asc` : sql`desc`}`;
  return rows.map((r) => r.id);
}

const hasElement = (sql: postgres.Sql, e: string) => sql`m.formula ~ ${`${e}([^a-z]|$)`}`;

const CASES: [string, Where][] = [
  ['energy_min=-15', (s) => s`c.total_energy_eh >= -15`],
  ['energy_max=-18.5', (s) => s`c.total_energy_eh <= -18.5`],
  ['gap_min=6', (s) => s`c.homo_lumo_gap_ev >= 6`],
  ['gap_max=4.5', (s) => s`c.homo_lumo_gap_ev <= 4.5`],
  ['dipole_min=2.1', (s) => s`c.dipole_debye >= 2.1`],
  ['dipole_max=0.9', (s) => s`c.dipole_debye <= 0.9`],
  ['method=GFN1-xTB', (s) => s`c.method = 'GFN1-xTB'`],
  ['task=opt', (s) => s`c.task = 'opt'`],
  ['solvent=water', (s) => s`c.solvent = 'water'`],
  ['solvent=gas', (s) => s`c.solvent is null`],
  ['status=failed', (s) => s`c.status = 'failed'`],
  ['status=running', (s) => s`c.status = 'running'`],
  ['inchikey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N', (s) => s`m.canonical_smiles = 'CCO'`],
  ['smiles=OCC', (s) => s`m.canonical_smiles = 'CCO'`],
  ['smiles=C1%3DCC%3DNC%3DC1', (s) => s`m.canonical_smiles = 'c1ccncc1'`],
  ['formula=C2H6O', (s) => s`m.formula = 'C2H6O'`],
  ['elements=C,N,O', (s) => s`${hasElement(s, 'C')} and ${hasElement(s, 'N')} and ${hasElement(s, 'O')}`],
  ['elements=Cl', (s) => hasElement(s, 'Cl')],
  ['elements=N,C', (s) => s`${hasElement(s, 'C')} and ${hasElement(s, 'N')}`],
  ['n_atoms_min=9', (s) => s`m.n_atoms >= 9`],
  ['n_atoms_max=5', (s) => s`m.n_atoms <= 5`],
  ['tag=alpha', (s) => s`'alpha' = any (c.tags)`],
  ['tag=beta', (s) => s`'beta' = any (c.tags)`],
  ['tag=nothing', (s) => s`false`],
  ['energy_min=-14&energy_max=-12&gap_min=3&gap_max=9', (s) => s`c.total_energy_eh between -14 and -12 and c.homo_lumo_gap_ev between 3 and 9`],
  ['method=GFN2-xTB&solvent=gas&task=sp', (s) => s`c.method = 'GFN2-xTB' and c.solvent is null and c.task = 'sp'`],
  ['formula=C2H6O&energy_max=-13', (s) => s`m.formula = 'C2H6O' and c.total_energy_eh <= -13`],
  ['elements=C,O&n_atoms_min=6&n_atoms_max=9&tag=alpha', (s) => s`${hasElement(s, 'C')} and ${hasElement(s, 'O')} and m.n_atoms between 6 and 9 and 'alpha' = any (c.tags)`],
  ['status=completed&dipole_min=1&dipole_max=3&method=GFN1-xTB', (s) => s`c.status = 'completed' and c.dipole_debye between 1 and 3 and c.method = 'GFN1-xTB'`],
  ['smiles=OCC&solvent=methanol&gap_max=8', (s) => s`m.canonical_smiles = 'CCO' and c.solvent = 'methanol' and c.homo_lumo_gap_ev <= 8`],
];

describe('GET /query/calculations filters', () => {
  it.each(CASES)('%s', async (params, where) => {
    const got = await allPages(`query/calculations?${params}&limit=7`, user.token);
    const want = await expected(where);
    expect(got.map((r) => r.id)).toEqual(want);
  });

  it('molecule_id, batch_id and the created_at range, alone and together', async () => {
    const cases: [string, Where][] = [
      [`molecule_id=${ethanolId}`, (s) => s`c.molecule_id = ${ethanolId}`],
      [`batch_id=${batchId}`, (s) => s`c.batch_item_id in (select id from public.batch_items where batch_job_id = ${batchId})`],
      [`created_after=${boundary}`, (s) => s`c.created_at >= ${boundary}::text::timestamptz`],
      [`created_before=${boundary}`, (s) => s`c.created_at < ${boundary}::text::timestamptz`],
      [`created_after=${boundary}&molecule_id=${ethanolId}&status=completed`,
        (s) => s`c.created_at >= ${boundary}::text::timestamptz and c.molecule_id = ${ethanolId} and c.status = 'completed'`],
      [`created_after=2000-01-01&created_before=2100-01-01T00:00:00Z`, (s) => s`true`],
    ];
    for (const [params, where] of cases) {
      const got = await allPages(`query/calculations?${params}&limit=4`, user.token);
      expect(got.map((r) => r.id), params).toEqual(await expected(where));
    }
    expect((await expected((s) => s`c.batch_item_id is not null`)).length).toBe(3);
  });

  it.each([
    ['energy', 'asc'], ['energy', 'desc'], ['gap', 'asc'], ['gap', 'desc'],
    ['dipole', 'asc'], ['dipole', 'desc'], ['created_at', 'asc'], ['created_at', 'desc'],
  ] as const)('sort=%s&order=%s lists every row in order, the rows without the value last', async (sort, order) => {
    const got = await allPages(`query/calculations?sort=${sort}&order=${order}&limit=9`, user.token);
    expect(got.map((r) => r.id)).toEqual(await expected((s) => s`true`, sort, order));
    const filtered = await allPages(`query/calculations?sort=${sort}&order=${order}&limit=3&elements=C,O&status=completed`, user.token);
    expect(filtered.map((r) => r.id)).toEqual(await expected((s) => s`${hasElement(s, 'C')} and ${hasElement(s, 'O')} and c.status = 'completed'`, sort, order));
  });

  it('returns the rows with their molecule, exactly as stored', async () => {
    const res = await call('query/calculations?smiles=CCO&status=completed&limit=1&sort=energy', { token: user.token });
    expect(res.status).toBe(200);
    const row = res.body.data[0];
    const [db] = await adminSql()`select * from public.calculations where id = ${row.id}`;
    expect(row).toMatchObject({
      canonical_smiles: 'CCO', inchikey: 'LFQSCWFLJHTTHZ-UHFFFAOYSA-N', formula: 'C2H6O', n_atoms: 9,
      method: db.method, task: db.task, solvent: db.solvent, status: 'completed',
      total_energy_eh: db.total_energy_eh, homo_lumo_gap_ev: db.homo_lumo_gap_ev, dipole_au: db.dipole_au, tags: db.tags,
    });
    expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.parse(row.created_at)).toBe(db.created_at.getTime());
  });
});

describe('GET /query/calculations/:id and /query/molecules', () => {
  it('returns a calculation with its atoms in atom order', async () => {
    const [c] = await adminSql()`select id from public.calculations where user_id = ${user.id} and status = 'completed'
      and task = 'grad' and molecule_id = ${ethanolId} limit 1`;
    const res = await call(`query/calculations/${c.id}`, { token: user.token });
    expect(res.status).toBe(200);
    const atoms = await adminSql()`select * from public.atomic_properties where calculation_id = ${c.id} order by atom_index`;
    expect(res.body.atoms).toHaveLength(9);
    res.body.atoms.forEach((a: any, i: number) => {
      expect(a).toEqual({
        atom_index: i, element: atoms[i].element, atomic_number: atoms[i].atomic_number,
        xyz_ang: [atoms[i].x_ang, atoms[i].y_ang, atoms[i].z_ang], partial_charge_e: atoms[i].partial_charge_e,
        gradient_eh_bohr: [atoms[i].grad_x_eh_bohr, atoms[i].grad_y_eh_bohr, atoms[i].grad_z_eh_bohr],
      });
    });
    const [running] = await adminSql()`select id from public.calculations where user_id = ${user.id} and status = 'running' limit 1`;
    const r2 = await call(`query/calculations/${running.id}`, { token: user.token });
    expect(r2.status).toBe(200);
    expect(r2.body).toMatchObject({ status: 'running', total_energy_eh: null, atoms: [] });
  });

  it('filters molecules by InChIKey, SMILES, formula, name and tag', async () => {
    const names = async (params: string) =>
      (await allPages(`query/molecules?${params}&limit=2`, user.token)).map((m) => m.canonical_smiles).sort();
    expect(await names('')).toEqual(['C', 'CC(N)=O', 'CCO', 'COC', 'ClCCl', 'O', 'c1ccncc1']);
    expect(await names('smiles=OCC')).toEqual(['CCO']);
    expect(await names('smiles=C(O)C')).toEqual(['CCO']);
    expect(await names('inchikey=lfqscwflJHTTHZ-UHFFFAOYSA-N')).toEqual(['CCO']);
    expect(await names('formula=C2H6O')).toEqual(['CCO', 'COC']);
    // Any case and order: the query's formula is brought to the stored Hill formula.
    for (const f of ['c2h6o', 'OC2H6', 'CH3CH2OH', 'H6C2O']) expect(await names(`formula=${f}`), f).toEqual(['CCO', 'COC']);
    // Names: odd specs are "Mixed Case Name"; the first calculation of each molecule named it.
    const [{ want }] = await adminSql()`select coalesce(array_agg(canonical_smiles order by canonical_smiles), '{}') as want
      from public.molecules where user_id = ${user.id} and name ilike '%case%'`;
    expect(await names('name=CASE')).toEqual([...want].sort());
    expect(await names('name=%25')).toEqual([]);
    expect(await names('tag=aromatic')).toEqual(['c1ccncc1']);
    expect(await names('formula=C2H6O&smiles=COC')).toEqual(['COC']);
  });

  it('returns a molecule with its calculations, oldest first', async () => {
    const res = await call(`query/molecules/${ethanolId}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ethanolId, canonical_smiles: 'CCO', formula: 'C2H6O', calculations_next_cursor: null });
    expect(res.body.calculations.map((c: any) => c.id)).toEqual(await expected((s) => s`c.molecule_id = ${ethanolId}`));
  });
});
