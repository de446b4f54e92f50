// Releases in SQL, as the functions' role: a sealed release takes no new members and changes only
// by withdrawal (trigger releases_frozen); nobody deletes releases or members through the API; the
// split is a function of the seed and the InChIKey alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql, API_ROLE, asRole } from '../support/db.ts';
import { errorOf, fakeInchikey } from '../support/sql-helpers.ts';
import { newUser, type TestUser } from '../support/users.ts';

let user: TestUser;
let releaseId: string;
let calcId: string;

beforeAll(async () => {
  user = await newUser();
  ({ releaseId, calcId } = await asRole(API_ROLE, user.id, async (tx) => {
    const [m] = await tx`
      insert into public.molecules (canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values ('O', ${fakeInchikey()}, 'H2O', 'O', 3) returning id`;
    const [c] = await tx`
      insert into public.calculations (molecule_id, method, task, status, total_energy_eh)
      values (${m.id}, 'GFN2-xTB', 'sp', 'completed', -5.07) returning id`;
    const [d] = await tx`insert into public.datasets (name) values ('sql') returning id`;
    const [r] = await tx`select id from public.create_release(${d.id}, '{"license": "MIT", "authors": ["t"]}'::jsonb, array[${c.id}::uuid])`;
    await tx`select public.seal_release(${r.id}, ${'a'.repeat(64)}, 1)`;
    return { releaseId: r.id as string, calcId: c.id as string };
  }));
});

describe('a sealed release', () => {
  it('takes no new members', async () => {
    const err = await errorOf(asRole(API_ROLE, user.id, (tx) => tx`
      insert into public.release_members (release_id, ordinal, calculation_id) values (${releaseId}, 2, ${calcId})`));
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/row-level security/);
  });

  it('cannot be resealed or edited, and nobody deletes releases or members', async () => {
    const reseal = await errorOf(asRole(API_ROLE, user.id, (tx) => tx`select public.seal_release(${releaseId}, ${'b'.repeat(64)}, 2)`));
    expect(reseal.code).toBe('QF409');
    const edit = await errorOf(asRole(API_ROLE, user.id, (tx) => tx`update public.releases set manifest = '{}' where id = ${releaseId}`));
    expect(edit.code).toBe('QF409');
    for (const statement of [
      (tx: any) => tx`update public.releases set license = 'GPL-3.0' where id = ${releaseId}`,
      (tx: any) => tx`delete from public.releases where id = ${releaseId}`,
      (tx: any) => tx`delete from public.release_members where release_id = ${releaseId}`,
      (tx: any) => tx`update public.release_members set ordinal = 5 where release_id = ${releaseId}`,
      (tx: any) => tx`delete from public.datasets`,
    ]) {
      const denied = await errorOf(asRole(API_ROLE, user.id, statement));
      expect(denied.code).toBe('42501');
    }
    const [r] = await adminSql()`select content_sha256, status from public.releases where id = ${releaseId}`;
    expect(r).toEqual({ content_sha256: 'a'.repeat(64), status: 'published' });
  });
});

describe('release_split', () => {
  it('depends on the seed and the InChIKey only, and follows the fractions', async () => {
    const [row] = await adminSql()`
      with k as (select 'KEY' || g::text as key from generate_series(1, 2000) g)
      select count(*) filter (where public.release_split('s', array[0.7, 0.2, 0.1]::float8[], key) = 'train')::int as train,
             count(*) filter (where public.release_split('s', array[0.7, 0.2, 0.1]::float8[], key) = 'validation')::int as validation,
             count(*) filter (where public.release_split('s', array[0.7, 0.2, 0.1]::float8[], key) = 'test')::int as test,
             count(*) filter (where public.release_split('s', array[0.7, 0.2, 0.1]::float8[], key)
                                 <> public.release_split('t', array[0.7, 0.2, 0.1]::float8[], key))::int as moved,
             bool_and(public.release_split('s', array[1, 0, 0]::float8[], key) = 'train') as all_train
        from k`;
    expect(row.train + row.validation + row.test).toBe(2000);
    // Binomial spread around 1400 / 400 / 200 is tens; these bounds are ~8 sigma.
    expect(Math.abs(row.train - 1400)).toBeLessThan(170);
    expect(Math.abs(row.validation - 400)).toBeLessThan(150);
    expect(Math.abs(row.test - 200)).toBeLessThan(110);
    expect(row.moved).toBeGreaterThan(500);
    expect(row.all_train).toBe(true);
  });
});

describe('a sealing release', () => {
  it('moves its hash progress only forward, takes members only before its first part, and is published only with a manifest', async () => {
    const sealing = await asRole(API_ROLE, user.id, async (tx) => {
      const [d] = await tx`insert into public.datasets (name) values ('sealing') returning id`;
      const [r] = await tx`
        select id, status, hashed_through, hashed_bytes
          from public.create_release(${d.id}, '{"license": "MIT", "authors": ["t"]}'::jsonb, array[${calcId}::uuid])`;
      expect(r).toMatchObject({ status: 'sealing', hashed_through: 0, hashed_bytes: '0' });
      return r.id as string;
    });
    const as = (statement: (tx: any) => Promise<unknown>) => asRole(API_ROLE, user.id, statement);
    // A part of 70 bytes: the eight words and 70 % 64 = 6 pending bytes.
    await as((tx) => tx`update public.releases set hashed_through = 1, hashed_bytes = 70, sha256_midstate = ${new Uint8Array(38)} where id = ${sealing}`);
    const back = await errorOf(as((tx) => tx`update public.releases set hashed_through = 0, hashed_bytes = 0, sha256_midstate = null where id = ${sealing}`));
    expect(back.code).toBe('QF409');
    const short = await errorOf(as((tx) => tx`update public.releases set hashed_through = 2, hashed_bytes = 140, sha256_midstate = ${new Uint8Array(38)} where id = ${sealing}`));
    expect(short.code).toBe('23514');
    const member = await errorOf(as((tx) => tx`
      insert into public.release_members (release_id, ordinal, calculation_id) values (${sealing}, 2, ${calcId})`));
    expect(member.code).toBe('42501');
    const bare = await errorOf(as((tx) => tx`update public.releases set status = 'published' where id = ${sealing}`));
    expect(['QF409', '23514']).toContain(bare.code);
  });
});
