// The formula filter's reading of what users type: counts added up and written in Hill order, case
// restored where only one reading exists, and a 400's issue where none or two do.
import { describe, expect, it } from 'vitest';
import { normaliseFormulaQuery } from '../../shared/chem/formula-query.ts';

describe('normaliseFormulaQuery', () => {
  it.each([
    ['C2H6O', 'C2H6O'], ['c2h6o', 'C2H6O'], ['OC2H6', 'C2H6O'], ['CH3CH2OH', 'C2H6O'], ['h2o', 'H2O'],
    ['CO', 'CO'], ['Co', 'Co'], ['CL', 'Cl'], ['hcl', 'ClH'], ['NaCl', 'ClNa'], ['C2H5O-', 'C2H5O-'], ['C6H6+2', 'C6H6+2'],
  ])('%s → %s', (text, formula) => {
    expect(normaliseFormulaQuery(text)).toEqual({ formula });
  });

  it.each([
    ['co', /CO or Co/], ['Xx', /not made of element symbols/], ['C0', /at least 1/], ['C2 H6', /must be a formula/], ['+', /must be a formula/],
  ])('%s is refused', (text, issue) => {
    const q = normaliseFormulaQuery(text);
    expect('issue' in q && q.issue).toMatch(issue);
  });

  it('reads a long ambiguous run in linear time, naming two readings', () => {
    const q = normaliseFormulaQuery('co'.repeat(100));
    expect('issue' in q && q.issue).toMatch(/can be read as/);
  });

  it('refuses at once a long run of letters that breaks off at its end (no backtracking blow-up)', () => {
    // The fuzz suite's case: a keyset cursor's base64 text sent as formula. Once, this took minutes.
    const q = normaliseFormulaQuery('eyJyIjoiY2FsY3VsYXRpb25zIiwicyI6InRvdGFsX2VuZXJneV9laCIsIm8iOiJhc2MiLCJ2IjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDAwMDBaIiwiaWQiOiLVhfCQlo7VnfCShpnqlL3wnZ6f8J-Ip--ztSJ9');
    expect('issue' in q && q.issue).toMatch(/must be a formula/);
    expect('issue' in normaliseFormulaQuery(`${'Ab'.repeat(100)}_`) && true).toBe(true);
  });
});
