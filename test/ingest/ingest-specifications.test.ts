// The specification at the door: xtb settings written out or left as defaults are one
// specification, settings that change results make another, words that contradict the
// calculation's own columns are refused with their path, an impossible electronic state is
// refused as batch creation refuses it, and `spec=` / `xtb_version=` select by them.
import { beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

describe('specifications at ingest', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await newUser();
  });

  it('--acc 1.0 written out and left as the default are one specification: the second is a duplicate', async () => {
    const client = clientFor(user.token);
    const [first] = await client.ingest([calc({ seed: 101 })]);
    const [explicit] = await client.ingest([calc({ seed: 101, extra: { xtb_args: ['--acc', '1.0', '--iterations', '250', '--json', '-P', '4'] } })]);
    expect(first.outcome).toBe('created');
    expect(explicit).toMatchObject({ outcome: 'duplicate', calculation_id: first.calculation_id, specification_hash: first.specification_hash });
  });

  it('settings that change results make new calculations, each with its own hash', async () => {
    const variants = [
      ['--etemp', '5000'], ['--acc', '0.01'], ['--iterations', '500'], ['--vparam', 'my.param'],
    ];
    const results = await clientFor(user.token).ingest(variants.map((xtb_args) => calc({ seed: 102, extra: { xtb_args } })));
    expect(results.map((r) => r.outcome)).toEqual(['created', 'created', 'created', 'created']);
    expect(new Set(results.map((r) => r.specification_hash)).size).toBe(4);
    const specs = await adminSql()`
      select s.spec from public.calculations c join public.specifications s on s.id = c.specification_id
       where c.id = any(${results.map((r) => r.calculation_id!)}::uuid[])`;
    expect(specs.map((r) => r.spec)).toEqual(expect.arrayContaining([
      expect.objectContaining({ electronic_temperature_k: 5000 }),
      expect.objectContaining({ accuracy: 0.01 }),
      expect.objectContaining({ max_scc_iterations: 500 }),
      expect.objectContaining({ other_args: ['--vparam', 'my.param'] }),
    ]));
  });

  it('keeps the solvation model apart: ALPB and GBSA in water are two specifications', async () => {
    const water = (words: string[]) => calc({ seed: 103, extra: { solvent: 'water', xtb_args: words } });
    const [alpb, gbsa, implicit] = await clientFor(user.token).ingest([water(['--alpb', 'water']), water(['--gbsa', 'water']), water([])]);
    expect([alpb.outcome, gbsa.outcome, implicit.outcome]).toEqual(['created', 'created', 'duplicate']);
    expect(implicit.calculation_id).toBe(alpb.calculation_id);
    const [spec] = await adminSql()`select s.spec from public.specifications s where s.spec_hash = ${gbsa.specification_hash!} and s.user_id = ${user.id}`;
    expect(spec.spec.solvation).toEqual({ model: 'gbsa', solvent: 'water', reference_state: 'gsolv' });
  });

  it('refuses xtb_args that contradict the calculation\'s method, charge, multiplicity, task or solvent, naming the word', async () => {
    const res = await clientFor(user.token).ingest([
      calc({ seed: 104, extra: { xtb_args: ['input.xyz', '--gfn', '1'] } }),
      calc({ seed: 105, extra: { xtb_args: ['--chrg', '1'] } }),
      calc({ seed: 106, extra: { xtb_args: ['--etemp', '400', '--alpb', 'water'] } }),
      calc({ seed: 107, extra: { xtb_args: ['--opt'] } }),
    ]);
    expect(res.map((r) => r.outcome)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(res.map((r) => r.errors![0].path)).toEqual([
      'calculations[0].xtb_args[1]', 'calculations[1].xtb_args[0]', 'calculations[2].xtb_args[2]', 'calculations[3].xtb_args[0]',
    ]);
    expect(res[0].errors![0].issue).toMatch(/method GFN1-xTB, but the calculation's is GFN2-xTB/);
  });

  it('refuses CCO with charge 1 and multiplicity 1 as rejected, with a path, and stores the item beside it', async () => {
    const res = await clientFor(user.token).ingest([
      calc({ smiles: 'CCO', seed: 108, extra: { charge: 1, multiplicity: 1 } }),
      calc({ smiles: 'CCO', seed: 108, extra: { charge: 1, multiplicity: 2 } }),
    ]);
    expect(res[0]).toMatchObject({
      outcome: 'rejected',
      errors: [{ path: 'calculations[0].multiplicity', issue: 'multiplicity 1 is impossible for C2H6O with charge 1 (25 electrons)' }],
    });
    expect(res[1].outcome).toBe('created');
  });

  it('selects by spec= and xtb_version= in /query/calculations and the export', async () => {
    const client = clientFor(user.token);
    const [a, b] = await client.ingest([
      calc({ seed: 110, extra: { xtb_args: ['--etemp', '1234'] } }),
      calc({ seed: 111, extra: { results: { total_energy_eh: -5.1, xtb_version: '6.6.0' } } }),
    ]);
    const bySpec = await call(`query/calculations?spec=${a.specification_hash}`, { token: user.token });
    expect(bySpec.body.data.map((r: { id: string }) => r.id)).toEqual([a.calculation_id]);
    expect(bySpec.body.data[0].specification_hash).toBe(a.specification_hash);
    const byVersion = await call('query/calculations?xtb_version=6.6.0', { token: user.token });
    expect(byVersion.body.data.map((r: { id: string }) => r.id)).toEqual([b.calculation_id]);
    const exported = await call(`query/export?format=ndjson&spec=${a.specification_hash}`, { token: user.token });
    const line = exported.body; // one ndjson line: parsed by the helper
    expect(line).toMatchObject({ id: a.calculation_id, specification_hash: a.specification_hash, specification: { electronic_temperature_k: 1234 } });
    const csv = await call(`query/export?format=csv&xtb_version=6.6.0`, { token: user.token });
    expect(String(csv.body).trim().split('\r\n')).toHaveLength(2);
    const bad = await call('query/calculations?spec=xyz', { token: user.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('spec');
  });

  it('shows the whole specification in the calculation\'s detail', async () => {
    const [r] = await clientFor(user.token).ingest([calc({ seed: 112, task: 'sp', extra: { xtb_args: ['--etemp', '300.0'] } })]);
    const detail = await call(`query/calculations/${r.calculation_id}`, { token: user.token });
    expect(detail.body.specification).toEqual({
      program: 'xtb', method: 'GFN2-xTB', task: 'sp', solvation: null, accuracy: 1, electronic_temperature_k: 300,
      max_scc_iterations: 250, opt_level: null, max_opt_cycles: null, other_args: [],
    });
    expect(detail.body.provenance).toBeNull();
  });
});
