// public.xtb_specification against the table in docs/specifications.md: each pair of spellings
// that the table calls equal gives one specification (one hash), each pair it calls different
// gives two; and a row inserted by hand without a specification gets the defaults.
import { describe, expect, it } from 'vitest';
import { adminSql } from '../support/db.ts';
import { newUser } from '../support/users.ts';
import { fakeInchikey } from '../support/sql-helpers.ts';

type Case = [method: string, task: string, solvent: string | null, args: string[]];
const gfn2 = (args: string[], task = 'sp', solvent: string | null = null): Case => ['GFN2-xTB', task, solvent, args];

async function hash([method, task, solvent, args]: Case): Promise<string> {
  const [r] = await adminSql()`select public.specification_hash(public.xtb_specification(${method}, ${task}, ${solvent}, ${args}::text[])) as h`;
  return r.h;
}

const SAME: [string, Case, Case][] = [
  ['--acc 1.0 and no --acc', gfn2(['--acc', '1.0']), gfn2([])],
  ['-a 1 and --acc 1', gfn2(['-a', '1']), gfn2(['--acc', '1'])],
  ['--etemp 300.0 and the default', gfn2(['--etemp', '300.0']), gfn2([])],
  ['--iterations 250 and the default', gfn2(['--iterations', '250']), gfn2([])],
  ['output and thread flags', gfn2(['xtb', 'input.xyz', '--gfn', '2', '--json', '-P', '4', '--namespace', 'x', '--verbose', '--pop', '--wbo', '--norestart']), gfn2([])],
  ['--cycles on a single point', gfn2(['--cycles', '3']), gfn2([])],
  ['--opt normal and --opt', gfn2(['--opt', 'normal'], 'opt'), gfn2(['--opt'], 'opt')],
  ['--opt verytight and --opt vtight', gfn2(['--opt', 'verytight'], 'opt'), gfn2(['--opt', 'vtight'], 'opt')],
  ['--opt Tight (ignored by xtb) and --opt', gfn2(['--opt', 'Tight'], 'opt'), gfn2(['--opt'], 'opt')],
  ['--alpb water and a solvent without flags', gfn2(['--alpb', 'water'], 'sp', 'water'), gfn2([], 'sp', 'water')],
  ['--alpb water gsolv and --alpb water', gfn2(['--alpb', 'water', 'gsolv'], 'sp', 'water'), gfn2(['--alpb', 'water'], 'sp', 'water')],
  ['--alpb water BAR1M (ignored by xtb) and --alpb water', gfn2(['--alpb', 'water', 'BAR1M'], 'sp', 'water'), gfn2(['--alpb', 'water'], 'sp', 'water')],
  ['-g and --gbsa', gfn2(['-g', 'water'], 'sp', 'water'), gfn2(['--gbsa', 'water'], 'sp', 'water')],
  ['GFN-FF with --etemp, --acc and --iterations', ['GFN-FF', 'sp', null, ['--etemp', '5000', '--acc', '0.01', '--iterations', '1']], ['GFN-FF', 'sp', null, []]],
];

const DIFFERENT: [string, Case, Case][] = [
  ['--etemp 5000', gfn2(['--etemp', '5000']), gfn2([])],
  ['--acc 0.01', gfn2(['--acc', '0.01']), gfn2([])],
  ['--iterations 500', gfn2(['--iterations', '500']), gfn2([])],
  ['--opt tight', gfn2(['--opt', 'tight'], 'opt'), gfn2(['--opt'], 'opt')],
  ['--opt --cycles 3', gfn2(['--opt', '--cycles', '3'], 'opt'), gfn2(['--opt'], 'opt')],
  ['GBSA and ALPB', gfn2(['--gbsa', 'water'], 'sp', 'water'), gfn2(['--alpb', 'water'], 'sp', 'water')],
  ['--alpb water bar1M', gfn2(['--alpb', 'water', 'bar1M'], 'sp', 'water'), gfn2(['--alpb', 'water'], 'sp', 'water')],
  ['--alpb water reference', gfn2(['--alpb', 'water', 'reference'], 'sp', 'water'), gfn2(['--alpb', 'water'], 'sp', 'water')],
  ['--cma', gfn2(['--cma']), gfn2([])],
  ['an unknown flag and its value', gfn2(['--vparam', 'a.txt']), gfn2(['--vparam', 'b.txt'])],
  ['GFN1 and GFN2', ['GFN1-xTB', 'sp', null, []], gfn2([])],
  ['sp and grad', gfn2([], 'grad'), gfn2([])],
];

describe('public.xtb_specification, the table of docs/specifications.md', () => {
  it.each(SAME)('one specification: %s', async (_, a, b) => {
    expect(await hash(a)).toBe(await hash(b));
  });

  it.each(DIFFERENT)('two specifications: %s', async (_, a, b) => {
    expect(await hash(a)).not.toBe(await hash(b));
  });

  it('hashes the jsonb text as PostgreSQL writes it', async () => {
    const [r] = await adminSql()`select public.xtb_specification('GFN2-xTB', 'sp', null, '{}')::text as t,
                                        public.specification_hash(public.xtb_specification('GFN2-xTB', 'sp', null, '{}')) as h`;
    const { createHash } = await import('node:crypto');
    expect(r.h).toBe(createHash('sha256').update(r.t, 'utf8').digest('hex'));
    expect(JSON.parse(r.t)).toEqual({
      program: 'xtb', method: 'GFN2-xTB', task: 'sp', solvation: null, accuracy: 1, electronic_temperature_k: 300,
      max_scc_iterations: 250, opt_level: null, max_opt_cycles: null, other_args: [],
    });
  });

  it('gives a row inserted without a specification the defaults of its method, task and solvent', async () => {
    const user = await newUser();
    const [m] = await adminSql()`
      insert into public.molecules (user_id, canonical_smiles, inchikey, formula, input_smiles, n_atoms)
      values (${user.id}, 'O', ${fakeInchikey()}, 'H2O', 'O', 3) returning id`;
    const [c] = await adminSql()`
      insert into public.calculations (user_id, molecule_id, method, task, solvent) values (${user.id}, ${m.id}, 'GFN1-xTB', 'grad', 'water')
      returning specification_id`;
    const [s] = await adminSql()`select spec from public.specifications where id = ${c.specification_id}`;
    expect(s.spec).toMatchObject({ method: 'GFN1-xTB', task: 'grad', solvation: { model: 'alpb', solvent: 'water', reference_state: 'gsolv' } });
  });
});
