// One runner, real xtb, `--once`, a user's token: water, methane and ethanol (grad), acetate
// (charge -1, in water), the methyl radical (multiplicity 2) and benzene (opt) end up stored with
// the energies of a direct xtb run on the same geometry, with atoms and gradients, and with the
// batches' counters and events right.
import { beforeAll, expect, it } from 'vitest';
import { createBatch } from '../../shared/client-batches.ts';
import type { CreateBatchRequest } from '../../shared/contract/batches.ts';
import type { Geometry } from '../../shared/contract/common.ts';
import { parseGradient } from '../../shared/xtb/index.ts';
import { geometryFor } from '../../scripts/runner/geometry.ts';
import { batchEvents, countersAndCounts, itemStates } from '../batches/batch-helpers.ts';
import type { ChildRun } from '../support/child.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { GEOMETRIES } from '../support/payloads.ts';
import { newUser, userEnv } from '../support/users.ts';
import { describeWithXtb, directXtb, itemLines, runRunner } from './helpers.ts';

interface Case {
  smiles: string;
  name: string;
  batch: 'grad' | 'acetate' | 'radical' | 'opt';
  /** The flags of the direct run, written out by hand. */
  flags: string[];
}

const CASES: Case[] = [
  { smiles: 'O', name: 'water', batch: 'grad', flags: ['--gfn', '2', '--chrg', '0', '--uhf', '0', '--grad'] },
  { smiles: 'C', name: 'methane', batch: 'grad', flags: ['--gfn', '2', '--chrg', '0', '--uhf', '0', '--grad'] },
  { smiles: 'CCO', name: 'ethanol', batch: 'grad', flags: ['--gfn', '2', '--chrg', '0', '--uhf', '0', '--grad'] },
  { smiles: 'CC(=O)[O-]', name: 'acetate', batch: 'acetate', flags: ['--gfn', '2', '--chrg', '-1', '--uhf', '0', '--alpb', 'water'] },
  { smiles: '[CH3]', name: 'methyl radical', batch: 'radical', flags: ['--gfn', '2', '--chrg', '0', '--uhf', '1'] },
  { smiles: 'c1ccccc1', name: 'benzene', batch: 'opt', flags: ['--gfn', '2', '--chrg', '0', '--uhf', '0', '--opt'] },
];

interface Stored {
  item_id: string;
  name: string;
  status: string;
  calculation_id: string;
  task: string;
  charge: number;
  multiplicity: number;
  solvent: string | null;
  total_energy_eh: number;
  gradient_norm_eh_bohr: number | null;
  converged: boolean | null;
  source: string;
  user_id: string;
}

describeWithXtb('one runner with the real xtb, --once, a user\'s token', () => {
  let user: Awaited<ReturnType<typeof newUser>>;
  const batchIds: Record<Case['batch'], string> = { grad: '', acetate: '', radical: '', opt: '' };
  let benzeneInput: Geometry;
  let run: ChildRun;
  let stored: Stored[];

  beforeAll(async () => {
    user = await newUser();
    const client = clientFor(user.token);
    // Benzene's input geometry is made here, so the direct --opt run can start from the same one.
    const benzene = await geometryFor({ smiles: 'c1ccccc1', geometry: null }, { obabel: 'obabel', cwd: '/tmp', timeoutMs: 60_000 });
    if (!benzene.ok) throw new Error(benzene.message);
    benzeneInput = benzene.atoms;
    const batches: Record<Case['batch'], Omit<CreateBatchRequest, 'items'>> = {
      grad: { name: 'runner e2e: grad', task: 'grad' },
      acetate: { name: 'runner e2e: acetate in water', task: 'sp', solvent: 'water' },
      radical: { name: 'runner e2e: methyl radical', task: 'sp' },
      opt: { name: 'runner e2e: benzene opt', task: 'opt' },
    };
    const items: Record<Case['batch'], CreateBatchRequest['items']> = {
      // Water keeps the geometry it is given; the others get one from obabel.
      grad: [{ smiles: 'O', name: 'water', geometry: GEOMETRIES.O }, { smiles: 'C', name: 'methane' }, { smiles: 'CCO', name: 'ethanol' }],
      acetate: [{ smiles: 'CC(=O)[O-]', name: 'acetate', charge: -1 }],
      radical: [{ smiles: '[CH3]', name: 'methyl radical', multiplicity: 2 }],
      opt: [{ smiles: 'c1ccccc1', name: 'benzene', geometry: benzeneInput }],
    };
    for (const key of Object.keys(batches) as Case['batch'][]) {
      batchIds[key] = (await createBatch(client, { ...batches[key], items: items[key] })).batch.id;
    }
    run = await runRunner(['--once', '--concurrency', '2', '--runner-id', 'e2e-runner'], userEnv(user.token));
    stored = await adminSql()<Stored[]>`
      select i.id as item_id, i.name, i.status, i.calculation_id, c.task, c.charge, c.multiplicity, c.solvent,
             c.total_energy_eh, c.gradient_norm_eh_bohr, c.converged, c.source, c.user_id
        from public.batch_items i left join public.calculations c on c.id = i.calculation_id
       where i.batch_job_id = any (${Object.values(batchIds)}::uuid[])`;
  }, 240_000);

  const atomsOf = (calculationId: string) => adminSql()<{ element: string; x_ang: number; y_ang: number; z_ang: number; partial_charge_e: number | null;
    grad_x_eh_bohr: number | null; grad_y_eh_bohr: number | null; grad_z_eh_bohr: number | null }[]>`
    select element, x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr
      from public.atomic_properties where calculation_id = ${calculationId} order by atom_index`;

  it('exits 0, logs one line per item and a summary', () => {
    expect(run.code, run.stderr).toBe(0);
    const lines = itemLines(run);
    expect(lines).toHaveLength(6);
    for (const c of CASES) expect(lines.some((l) => l.includes(`(${c.name}) GFN2-xTB/`) && /: completed in \d+\.\d\d s$/.test(l)), c.name).toBe(true);
    expect(run.stdout).toMatch(/^completed\s+6$/m);
    expect(run.stdout).toMatch(/^slot time outside xtb and obabel: \d+\.\d% of 2 × /m);
    console.log(`runner e2e: 6 items in ${run.seconds.toFixed(1)} s\n${run.stdout}`);
  });

  it('completes every item once, stored as the user\'s, with the item\'s charge, multiplicity, solvent and task', () => {
    expect(stored).toHaveLength(6);
    for (const c of CASES) {
      const s = stored.find((x) => x.name === c.name)!;
      expect(s.status, c.name).toBe('completed');
      expect(s.user_id).toBe(user.id);
      expect(s.source).toBe('runner:e2e-runner');
      expect(s.converged).toBe(true);
      expect(s.task).toBe(c.batch === 'grad' ? 'grad' : c.batch === 'opt' ? 'opt' : 'sp');
    }
    const byName = Object.fromEntries(stored.map((s) => [s.name, s]));
    expect([byName.acetate.charge, byName.acetate.solvent]).toEqual([-1, 'water']);
    expect(byName['methyl radical'].multiplicity).toBe(2);
  });

  it('stores the energy of a direct xtb run on the same geometry, within 1e-6 Eh', async () => {
    for (const c of CASES) {
      const s = stored.find((x) => x.name === c.name)!;
      const atoms = await atomsOf(s.calculation_id);
      // sp and grad store their input geometry; for opt the direct run starts from benzene's input.
      const geometry: Geometry = c.batch === 'opt' ? benzeneInput : atoms.map((a) => ({ element: a.element, xyz: [a.x_ang, a.y_ang, a.z_ang] }));
      if (c.name === 'water') expect(geometry).toEqual(GEOMETRIES.O);
      const direct = directXtb(geometry, c.flags);
      expect(Math.abs(s.total_energy_eh - direct.energyEh), `${c.name}: ${s.total_energy_eh} vs ${direct.energyEh}`).toBeLessThan(1e-6);
    }
  });

  it('stores atoms, charges and the gradient of the grad items, equal to xtb\'s gradient file', async () => {
    for (const c of CASES.filter((x) => x.batch === 'grad')) {
      const s = stored.find((x) => x.name === c.name)!;
      const atoms = await atomsOf(s.calculation_id);
      expect(atoms.length, c.name).toBeGreaterThan(2);
      expect(atoms.every((a) => a.partial_charge_e !== null && a.grad_x_eh_bohr !== null)).toBe(true);
      const direct = directXtb(atoms.map((a) => ({ element: a.element, xyz: [a.x_ang, a.y_ang, a.z_ang] })), c.flags);
      const g = parseGradient(direct.gradient!);
      if (!g.ok) throw new Error(g.error);
      atoms.forEach((a, i) => {
        expect(a.grad_x_eh_bohr).toBeCloseTo(g.value.gradient[i][0], 9);
        expect(a.grad_y_eh_bohr).toBeCloseTo(g.value.gradient[i][1], 9);
        expect(a.grad_z_eh_bohr).toBeCloseTo(g.value.gradient[i][2], 9);
      });
      // The gradient norm xtb printed is stored too.
      const printed = Number([...direct.out.matchAll(/\| GRADIENT NORM\s+(\S+) Eh/g)].pop()![1]);
      expect(s.gradient_norm_eh_bohr, c.name).toBeCloseTo(printed, 9);
    }
    // Not a grad item: no gradient stored.
    const acetate = await atomsOf(stored.find((x) => x.name === 'acetate')!.calculation_id);
    expect(acetate.every((a) => a.grad_x_eh_bohr === null && a.partial_charge_e !== null)).toBe(true);
  });

  it('keeps each batch\'s counters equal to its items, with one attempt each and batch_started then batch_completed', async () => {
    for (const id of Object.values(batchIds)) {
      const { counters, counted } = await countersAndCounts(id);
      expect(counters).toEqual(counted);
      expect(counted.completed_items).toBe(counted.total_items);
      expect(await batchEvents(id)).toEqual(['batch_created', 'batch_started', 'batch_completed']);
      for (const s of await itemStates(id)) {
        expect(s.attempt_history.map((h) => [h.attempt, h.runner, h.outcome])).toEqual([[1, 'e2e-runner', 'completed']]);
      }
    }
    const events = await adminSql()<{ entity_id: string; event_type: string }[]>`
      select entity_id, event_type from public.event_logs
       where entity_type = 'calculation' and entity_id = any (${stored.map((s) => s.calculation_id)}::uuid[])`;
    expect(events.map((e) => e.event_type).sort()).toEqual(Array(6).fill('calculation_completed'));
  });
});
