// xtb.out: results, termination, xtb's error stack and runtime crashes, on real GFN2/GFN1/GFN-FF/opt/solvent/failed logs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProgramCall, parseXtbOut, xtbErrorMessage, xtbFinished } from '../../shared/xtb/index.ts';
import { FIXTURE_JOBS as FIXTURES } from '../support/fixtures.ts';

const log = (job: string) => parseXtbOut(readFileSync(path.join(FIXTURES, job, 'xtb.out'), 'utf8'));

describe('xtb.out', () => {
  it('GFN2 single point: energy, gap, molecular dipole, wall time, version, call', () => {
    const l = log('2025-03/qf-20250301-00001');
    expect(l).toMatchObject({
      xtbVersion: '6.5.1', bannerMethod: 'GFN2-xTB', normalTermination: true, abnormalTermination: false, crashed: false,
      totalEnergyEh: -5.070208182764, gradientNormEhBohr: 0.018973243803, homoLumoGapEv: 14.159896854314,
      dipole: { au: [0.52, -0.28, 0.679], debye: 2.287, decimals: 3 },
      scfConverged: true, optConverged: null, wallTimeS: 0.015, messages: [],
    });
    expect(l.programCall).toEqual({ raw: 'xtb input.xyz --gfn 2 --json', method: 'GFN2-xTB', task: 'sp', charge: 0, uhf: 0, solvent: null });
    expect(xtbFinished(l)).toBe(true);
  });

  it('GFN1: dipole from the "dipole moment from electron density" line; termination printed mid-output', () => {
    const l = log('2025-03/qf-20250301-00010');
    expect(l.bannerMethod).toBe('GFN1-xTB');
    expect(l.normalTermination).toBe(true);
    expect(l.totalEnergyEh).toBe(-15.894394563133);
    expect(l.homoLumoGapEv).toBe(4.77316156067);
    expect(l.dipole).toEqual({ au: [0, 0, 0], debye: 0, decimals: 4 });
  });

  it('GFN-FF: energy but no gap, no dipole, no SCF; its [WARNING] box is a warning, not an error', () => {
    const l = log('2025-03/qf-20250302-00013');
    expect(l).toMatchObject({ bannerMethod: 'GFN-FF', normalTermination: true, totalEnergyEh: -2.224718560389, homoLumoGapEv: null, dipole: null, scfConverged: null, wallTimeS: 0.003 });
    expect(l.programCall?.method).toBe('GFN-FF');
    expect(l.messages).toEqual([{ level: 'warning', depth: 1, text: 'gfnff_setup: Could not read topology file.' }]);
    expect(xtbErrorMessage(l)).toBeNull();
  });

  it('optimisation: final energy and gradient norm, converged, total wall time (not the SCF one)', () => {
    const l = log('2025-03/qf-20250301-00004');
    expect(l).toMatchObject({ totalEnergyEh: -11.39433854876, gradientNormEhBohr: 0.000524139834, homoLumoGapEv: 12.893937083524, optConverged: true, wallTimeS: 0.031 });
    expect(l.programCall?.task).toBe('opt');
    expect(l.dipole).toEqual({ au: [-0.555, -0.552, -0.042], debye: 1.994, decimals: 3 });
  });

  it('optimisation that hit its cycle limit', () => {
    const text = readFileSync(path.join(FIXTURES, '2025-03/qf-20250301-00004/xtb.out'), 'utf8')
      .replace('*** GEOMETRY OPTIMIZATION CONVERGED AFTER 6 ITERATIONS ***', '*** FAILED TO CONVERGE GEOMETRY OPTIMIZATION IN 6 ITERATIONS ***');
    const l = parseXtbOut(text);
    expect(l.optConverged).toBe(false);
    expect(l.normalTermination).toBe(true);
  });

  it('solvent, charge and uhf come from the program call', () => {
    expect(log('2025-03/qf-20250301-00006').programCall).toMatchObject({ charge: -1, solvent: 'water', task: 'sp' });
    expect(log('2025-03/qf-20250302-00012').programCall).toMatchObject({ solvent: 'water', task: 'opt' });
    expect(log('2025-03/qf-20250301-00008').programCall).toMatchObject({ uhf: 1 });
    expect(log('legacy/job_0002').programCall).toMatchObject({ solvent: 'water', task: 'grad' });
    expect(parseProgramCall('xtb coord --gfn 0 -c 2 -u 1 --gbsa Methanol --opt tight --grad')).toMatchObject({ method: 'GFN0-xTB', charge: 2, uhf: 1, solvent: 'methanol', task: 'opt' });
  });

  it('SCF failure: abnormal termination and xtb\'s own message (deepest entry of the stack)', () => {
    const l = log('2025-04/qf-20250401-00018');
    expect(l).toMatchObject({ normalTermination: false, abnormalTermination: true, scfConverged: false, totalEnergyEh: null });
    expect(l.messages.map((m) => [m.level, m.depth])).toEqual([['error', 3], ['error', 2], ['error', 1]]);
    expect(xtbErrorMessage(l)).toBe('scf: Self consistent charge iterator did not converge');
    expect(l.programCall).toMatchObject({ uhf: 2 });
  });

  it('crash without any xtb message (GFN0, Fortran runtime error, no termination line)', () => {
    const l = log('2025-03/qf-20250302-00015');
    expect(l).toMatchObject({ normalTermination: false, abnormalTermination: false, crashed: true, messages: [], totalEnergyEh: null, wallTimeS: null });
    expect(l.runtimeError).toBe("In file '../src/generate_wsc.f90', around line 71: Error allocating 18446744061938894648 bytes: Cannot allocate memory");
    expect(xtbErrorMessage(l)).toBeNull();
    expect(xtbFinished(l)).toBe(true);
  });

  it('still running: a partial log with no end marker', () => {
    const l = log('2025-04/qf-20250401-00019');
    expect(xtbFinished(l)).toBe(false);
    expect(l).toMatchObject({ programCall: null, totalEnergyEh: null, xtbVersion: null });
  });

  it('CRLF and BOM do not change anything', () => {
    const text = readFileSync(path.join(FIXTURES, '2025-03/qf-20250301-00005/xtb.out'), 'utf8');
    expect(parseXtbOut('\uFEFF' + text.replace(/\n/g, '\r\n'))).toEqual(parseXtbOut(text));
  });
});
