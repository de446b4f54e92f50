// One calculation: its properties, the molecule in 3D from the stored geometry, and per atom the
// position, partial charge and force (−gradient, converted to eV/Å by shared/units.ts).
import { getCalculation } from '../../../shared/client-query.ts';
import type { CalculationDetail } from '../../../shared/contract/query.ts';
import { gradientToForceEvA } from '../../../shared/units.ts';
import { fmt, fmtTime, h, replace } from '../dom.ts';
import type { PageContext } from '../main.ts';
import { hasWebGL, showMolecule, type MoleculeView } from '../viewer.ts';

export function renderCalculation(main: HTMLElement, ctx: PageContext, id?: string): () => void {
  let view: MoleculeView | undefined;
  let gone = false;
  const back = sessionStorage.getItem('qf.dashboard.list') ?? '#/calculations';
  const body = h('div', {}, h('p', { class: 'hint' }, 'Loading…'));
  replace(main, h('a', { href: back }, '‹ Calculations'), body);

  void (async () => {
    let calc: CalculationDetail;
    try {
      calc = await getCalculation(ctx.session.client, id!);
    } catch (err) {
      return ctx.fail(body, err);
    }
    if (gone) return;
    const stage = h('div', { class: 'viewer', 'data-viewer': '' });
    const controls = h('div', { class: 'row viewer-controls' });
    replace(body,
      h('h1', {}, calc.formula, calc.molecule_name ? h('span', { class: 'hint' }, ` ${calc.molecule_name}`) : ''),
      h('p', { class: 'mono' }, calc.canonical_smiles, ' · ', calc.inchikey),
      h('div', { class: 'detail' },
        h('section', { class: 'card' }, stage, controls),
        h('section', { class: 'card' }, properties(calc))),
      h('h2', {}, `Atoms (${calc.atoms.length})`),
      atomsTable(calc));
    if (calc.atoms.length === 0) return replace(stage, h('p', { class: 'hint' }, 'No geometry was stored with this calculation.'));
    if (!hasWebGL()) return replace(stage, h('p', { class: 'hint' }, 'This browser has no WebGL, so the 3D view is off.'));
    try {
      view = await showMolecule(stage, calc.atoms);
    } catch (err) {
      return ctx.fail(stage, err);
    }
    if (gone) return view.dispose();
    stage.dataset.viewer = 'ready';
    performance.mark('qf:viewer');
    const colour = h('select', { name: 'colour', onchange: () => view?.colourBy(colour.value as 'element' | 'charge') },
      h('option', { value: 'element' }, 'colour by element'),
      h('option', { value: 'charge', disabled: calc.atoms.every((a) => a.partial_charge_e === null) }, 'colour by charge'));
    const forces = h('input', { type: 'checkbox', name: 'forces', disabled: calc.atoms.every((a) => !a.gradient_eh_bohr), onchange: () => view?.showForces(forces.checked) });
    replace(controls, colour, h('label', { class: 'inline' }, forces, ' forces'), h('span', { class: 'hint' }, 'drag to rotate, scroll to zoom'));
  })();
  return () => {
    gone = true;
    view?.dispose();
  };
}

function properties(c: CalculationDetail): HTMLElement {
  const rows: [string, string | number | null][] = [
    ['Status', c.status],
    ['Method', `${c.method} · ${c.task} · ${c.solvent ?? 'gas phase'}`],
    ['Charge, multiplicity', `${c.charge}, ${c.multiplicity}`],
    ['Total energy', c.total_energy_eh === null ? null : `${fmt(c.total_energy_eh, 8)} Eh`],
    ['HOMO–LUMO gap', c.homo_lumo_gap_ev === null ? null : `${fmt(c.homo_lumo_gap_ev, 4)} eV`],
    ['Dipole', c.dipole_debye === null ? null : `${fmt(c.dipole_debye, 4)} D`],
    ['Gradient norm', c.gradient_norm_eh_bohr === null ? null : `${fmt(c.gradient_norm_eh_bohr, 6)} Eh/Bohr`],
    ['Converged', c.converged === null ? null : c.converged ? 'yes' : 'no'],
    ['Wall time', c.wall_time_s === null ? null : `${fmt(c.wall_time_s, 2)} s`],
    ['xtb', c.xtb_version],
    ['Source', c.source],
    ['Tags', c.tags.join(', ') || null],
    ['Batch item', c.batch_item_id],
    ['Error', c.error_message],
    ['Created', fmtTime(c.created_at)],
    ['Completed', c.completed_at ? fmtTime(c.completed_at) : null],
    ['Id', c.id],
  ];
  return h('dl', { class: 'props' }, ...rows.filter(([, v]) => v !== null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
}

function atomsTable(c: CalculationDetail): HTMLElement {
  const hasForces = c.atoms.some((a) => a.gradient_eh_bohr);
  const head = ['#', 'Element', 'x (Å)', 'y (Å)', 'z (Å)', 'Charge (e)', ...(hasForces ? ['Fx (eV/Å)', 'Fy (eV/Å)', 'Fz (eV/Å)', '|F| (eV/Å)'] : [])];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data atoms' },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...c.atoms.map((a) => {
      const f = a.gradient_eh_bohr?.map(gradientToForceEvA);
      return h('tr', {},
        h('td', { class: 'num' }, a.atom_index + 1), h('td', {}, a.element),
        ...a.xyz_ang.map((v) => h('td', { class: 'num' }, fmt(v, 4))),
        h('td', { class: 'num' }, fmt(a.partial_charge_e, 4)),
        ...(hasForces ? [...(f ?? [null, null, null]).map((v) => h('td', { class: 'num' }, fmt(v, 4))),
          h('td', { class: 'num' }, f ? fmt(Math.hypot(...f), 4) : '–')] : []));
    }))));
}
