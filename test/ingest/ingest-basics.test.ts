// ingest over HTTP: molecule de-duplication, idempotent reruns, running → completed, per-item outcomes.
import { describe, expect, it } from 'vitest';
import { clientFor } from '../support/client.ts';
import { userCounts } from '../support/counts.ts';
import { adminSql } from '../support/db.ts';
import { calc } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';

describe('ingest', () => {
  it('stores one molecule for OCC, CCO and C(O)C, and aromatic and Kekulé benzene alike', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const results = await client.ingest([
      calc({ smiles: 'OCC', geometryOf: 'CCO', seed: 1 }),
      calc({ smiles: 'CCO', geometryOf: 'CCO', seed: 2 }),
      calc({ smiles: 'C(O)C', geometryOf: 'CCO', seed: 3 }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'created', 'created']);
    expect(new Set(results.map((r) => r.molecule_id)).size).toBe(1);
    const molecules = await adminSql()`select canonical_smiles, inchikey, formula, n_atoms, input_smiles from public.molecules where user_id = ${user.id}`;
    expect(molecules).toEqual([{ canonical_smiles: 'CCO', inchikey: 'LFQSCWFLJHTTHZ-UHFFFAOYSA-N', formula: 'C2H6O', n_atoms: 9, input_smiles: 'OCC' }]);
  });

  it('answers an exact rerun with the same ids, marked duplicate, and writes nothing', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const items = [calc({ seed: 1, withGradient: true }), calc({ seed: 2 })];
    const first = await client.ingest(items);
    expect(first.map((r) => r.outcome)).toEqual(['created', 'created']);
    const before = await userCounts(user.id);
    const second = await client.ingest(items);
    expect(second.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(second.map((r) => r.calculation_id)).toEqual(first.map((r) => r.calculation_id));
    const after = await userCounts(user.id);
    // The only new row anywhere is the request's own performance_metric event.
    expect({ ...after, event_logs: after.event_logs - 1 }).toEqual(before);
    const [metric] = await adminSql()`
      select payload from public.event_logs where user_id = ${user.id} and event_type = 'performance_metric'
      order by created_at desc, id desc limit 1`;
    expect(metric.payload).toMatchObject({ items: 2, atoms: 0 });
  });

  it('completes a running registration in place, and completed wins over a later running', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [running] = await client.ingest([calc({ seed: 7, status: 'running' })]);
    expect(running.outcome).toBe('created');
    const [done] = await client.ingest([calc({ seed: 7 })]);
    expect(done).toMatchObject({ outcome: 'updated', calculation_id: running.calculation_id });
    const [again] = await client.ingest([calc({ seed: 7, status: 'running' })]);
    expect(again).toMatchObject({ outcome: 'duplicate', calculation_id: running.calculation_id });
    const [row] = await adminSql()`select status, total_energy_eh, started_at is not null as started, completed_at is not null as completed
      from public.calculations where id = ${running.calculation_id}`;
    expect(row).toMatchObject({ status: 'completed', started: true, completed: true });
    const atoms = await adminSql()`select count(*)::int as n from public.atomic_properties where calculation_id = ${running.calculation_id}`;
    expect(atoms[0].n).toBe(3);
    const events = await adminSql()`select event_type from public.event_logs
      where user_id = ${user.id} and entity_id = ${running.calculation_id} order by id`;
    expect(events.map((e) => e.event_type)).toEqual(['calculation_started', 'calculation_completed']);
  });

  it('stores a completed result over a failed one for the same identity', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const [failed] = await client.ingest([calc({ seed: 9, status: 'failed' })]);
    const [done] = await client.ingest([calc({ seed: 9 })]);
    expect(done).toMatchObject({ outcome: 'updated', calculation_id: failed.calculation_id });
    const [row] = await adminSql()`select status, error_message from public.calculations where id = ${failed.calculation_id}`;
    expect(row).toEqual({ status: 'completed', error_message: null });
  });

  it('tells a solvent from the gas phase: each is its own calculation, found again on rerun, updated in place', async () => {
    const user = await newUser();
    const client = clientFor(user.token);
    const gas = calc({ seed: 11, status: 'running' });
    const water = { ...calc({ seed: 11, status: 'running' }), solvent: 'water' };
    const first = await client.ingest([gas, water]);
    expect(first.map((r) => r.outcome)).toEqual(['created', 'created']);
    expect(first[0].calculation_id).not.toBe(first[1].calculation_id);
    // The same two in one request, each twice, and in the other order: found, never confused.
    const rerun = await client.ingest([water, gas, water, gas]);
    expect(rerun.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(rerun.map((r) => r.calculation_id)).toEqual([first[1], first[0], first[1], first[0]].map((r) => r.calculation_id));
    // Completing the one in water moves that row only.
    const [done] = await client.ingest([{ ...calc({ seed: 11 }), solvent: 'water' }]);
    expect(done).toMatchObject({ outcome: 'updated', calculation_id: first[1].calculation_id });
    const rows = await adminSql()`select solvent, status from public.calculations where user_id = ${user.id} order by solvent nulls first`;
    expect(rows).toEqual([{ solvent: null, status: 'running' }, { solvent: 'water', status: 'completed' }]);
  });

  it('stores per-atom values exactly as sent', async () => {
    const user = await newUser();
    const item = calc({ smiles: 'C', seed: 3, withGradient: true, energy: -4.17496221985 });
    const [r] = await clientFor(user.token).ingest([item]);
    const atoms = await adminSql()`
      select atom_index, element, atomic_number, x_ang, y_ang, z_ang, partial_charge_e, grad_x_eh_bohr, grad_y_eh_bohr, grad_z_eh_bohr
        from public.atomic_properties where calculation_id = ${r.calculation_id} order by atom_index`;
    expect(atoms).toHaveLength(5);
    atoms.forEach((a, i) => {
      expect(a.element).toBe(item.geometry[i].element);
      expect(a.atomic_number).toBe(i === 0 ? 6 : 1);
      expect([a.x_ang, a.y_ang, a.z_ang]).toEqual(item.geometry[i].xyz);
      expect(a.partial_charge_e).toBe(item.charges![i]);
      expect([a.grad_x_eh_bohr, a.grad_y_eh_bohr, a.grad_z_eh_bohr]).toEqual(item.gradient![i]);
    });
    const [k] = await adminSql()`select total_energy_eh, task from public.calculations where id = ${r.calculation_id}`;
    expect(k).toEqual({ total_energy_eh: -4.17496221985, task: 'grad' });
  });
});
