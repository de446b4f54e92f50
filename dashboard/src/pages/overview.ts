// Overview: the counters of database_stats and the two histograms, from one GET /query/stats.
import { stats } from '../../../shared/client-query.ts';
import type { DatabaseStats } from '../../../shared/contract/query.ts';
import { histogramChart } from '../charts.ts';
import { fmtInt, h, replace } from '../dom.ts';
import type { PageContext } from '../main.ts';

/** The counters, grouped as people read them; the keys are database_stats' own. */
const GROUPS: { title: string; items: [keyof DatabaseStats, string][] }[] = [
  { title: 'Data', items: [['molecules', 'molecules'], ['calculations_total', 'calculations'], ['atoms', 'atoms'], ['events_last_24h', 'events, last 24 h']] },
  { title: 'Calculations by status', items: [['calculations_completed', 'completed'], ['calculations_failed', 'failed'], ['calculations_running', 'running'], ['calculations_pending', 'pending']] },
  { title: 'Calculations by method', items: [['calculations_gfn2_xtb', 'GFN2-xTB'], ['calculations_gfn1_xtb', 'GFN1-xTB'], ['calculations_gfn0_xtb', 'GFN0-xTB'], ['calculations_gfn_ff', 'GFN-FF']] },
  { title: 'Batches', items: [['batches_total', 'batches'], ['batches_running', 'running'], ['batches_pending', 'pending'], ['batches_completed', 'completed'], ['batches_failed', 'failed'], ['batches_cancelled', 'cancelled']] },
];

export function renderOverview(main: HTMLElement, ctx: PageContext): void {
  const body = h('div', {}, h('p', { class: 'hint' }, 'Loading…'));
  const refresh = h('button', { type: 'button', onclick: () => void load() }, 'Refresh');
  replace(main, h('div', { class: 'title-row' }, h('h1', {}, 'Overview'), refresh), body);

  async function load() {
    try {
      const res = await stats(ctx.session.client);
      replace(body,
        ...GROUPS.map((g) => h('section', { class: 'stat-group' },
          h('h2', {}, g.title),
          h('div', { class: 'stats' }, ...g.items.map(([key, label]) =>
            h('div', { class: 'stat', 'data-stat': key, 'data-value': res.stats[key] },
              h('span', { class: 'value' }, fmtInt(res.stats[key])),
              h('span', { class: 'label' }, label)))))),
        h('section', { class: 'charts' },
          h('figure', {},
            histogramChart(res.histograms.energy_per_atom_eh, 'energy per atom (Eh)', 'energy'),
            h('figcaption', {}, `Total energy per atom of ${fmtInt(res.histograms.energy_per_atom_eh.count)} completed calculations`)),
          h('figure', {},
            histogramChart(res.histograms.homo_lumo_gap_ev, 'HOMO–LUMO gap (eV)', 'gap'),
            h('figcaption', {}, `HOMO–LUMO gap of ${fmtInt(res.histograms.homo_lumo_gap_ev.count)} calculations`))));
      // For `npm run bench:dashboard`: the first page is on screen with its data.
      performance.mark('qf:overview');
    } catch (err) {
      ctx.fail(body, err);
    }
  }
  void load();
}
