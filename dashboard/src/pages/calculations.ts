// Calculations: the filters of /query/calculations (checked with the contract's own schema before
// a request), keyset paging forward and back, and an export of the same filter.
import { listCalculations, type CalculationParams } from '../../../shared/client-query.ts';
import { METHODS, TASKS } from '../../../shared/contract/common.ts';
import { CALCULATION_STATUSES } from '../../../shared/contract/ingest.ts';
import { EXPORT_FORMATS, ListCalculationsQuery, ORDERS, SORT_KEYS, type CalculationRow, type ExportFormat } from '../../../shared/contract/query.ts';
import { fmt, fmtBytes, fmtInt, fmtTime, h, replace } from '../dom.ts';
import { exportToFile } from '../export.ts';
import type { PageContext } from '../main.ts';

interface Field {
  name: string;
  label: string;
  options?: readonly string[];
  /** The label of the empty choice (the server's default). */
  any?: string;
  placeholder?: string;
  type?: 'number' | 'text' | 'date';
}

/** The filters, in the order of the form; names are the query parameters. */
const FIELDS: Field[][] = [
  [
    { name: 'smiles', label: 'SMILES', placeholder: 'OCC' },
    { name: 'formula', label: 'Formula', placeholder: 'C2H6O' },
    { name: 'inchikey', label: 'InChIKey' },
    { name: 'elements', label: 'Contains elements', placeholder: 'C,N,O' },
    { name: 'tag', label: 'Tag' },
  ],
  [
    { name: 'method', label: 'Method', options: METHODS },
    { name: 'task', label: 'Task', options: TASKS },
    { name: 'solvent', label: 'Solvent', placeholder: 'water, or gas' },
    { name: 'status', label: 'Status', options: CALCULATION_STATUSES },
    { name: 'batch_id', label: 'Batch id' },
    { name: 'molecule_id', label: 'Molecule id' },
  ],
  [
    { name: 'energy_min', label: 'Energy ≥ (Eh)', type: 'number' },
    { name: 'energy_max', label: 'Energy ≤ (Eh)', type: 'number' },
    { name: 'gap_min', label: 'Gap ≥ (eV)', type: 'number' },
    { name: 'gap_max', label: 'Gap ≤ (eV)', type: 'number' },
    { name: 'dipole_min', label: 'Dipole ≥ (D)', type: 'number' },
    { name: 'dipole_max', label: 'Dipole ≤ (D)', type: 'number' },
  ],
  [
    { name: 'n_atoms_min', label: 'Atoms ≥', type: 'number' },
    { name: 'n_atoms_max', label: 'Atoms ≤', type: 'number' },
    { name: 'created_after', label: 'Created from', type: 'date' },
    { name: 'created_before', label: 'Created before', type: 'date' },
    { name: 'sort', label: 'Sort by', options: SORT_KEYS, any: 'default' },
    { name: 'order', label: 'Order', options: ORDERS, any: 'default' },
  ],
];
const NAMES = FIELDS.flat().map((f) => f.name);
const PAGE_SIZES = ['25', '50', '100', '250'];

/** The filter in the route's query, limited to known names and non-empty values. */
function filterOf(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...NAMES, 'limit']) {
    const v = params.get(name)?.trim();
    if (v) out[name] = v;
  }
  return out;
}

export function renderCalculations(main: HTMLElement, ctx: PageContext): void {
  const filter = filterOf(ctx.params);
  sessionStorage.setItem('qf.dashboard.list', location.hash);
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const errors = new Map<string, HTMLElement>();
  const control = (f: Field) => {
    const el = f.options
      ? h('select', { name: f.name }, h('option', { value: '' }, f.any ?? 'any'), ...f.options.map((o) => h('option', { value: o }, o)))
      : h('input', { name: f.name, type: f.type === 'number' ? 'text' : f.type ?? 'text', inputmode: f.type === 'number' ? 'decimal' : null, placeholder: f.placeholder ?? '' });
    el.value = filter[f.name] ?? '';
    inputs.set(f.name, el);
    const error = h('span', { class: 'field-error' });
    errors.set(f.name, error);
    return h('label', {}, f.label, el, error);
  };
  const limit = h('select', { name: 'limit' }, ...PAGE_SIZES.map((n) => h('option', { value: n }, n)));
  limit.value = PAGE_SIZES.includes(filter.limit) ? filter.limit : '50';
  inputs.set('limit', limit);

  const form = h('form', {
    class: 'filters card',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const [name, el] of inputs) if (el.value.trim()) next.set(name, el.value.trim());
      for (const e of errors.values()) e.textContent = '';
      // The contract's schema, as the server will parse it: mistakes are named before any request.
      const parsed = ListCalculationsQuery.safeParse(Object.fromEntries(next));
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const el = errors.get(String(issue.path[0]));
          if (el) el.textContent = issue.message;
        }
        return;
      }
      location.hash = `#/calculations?${next}`;
    },
  },
  ...FIELDS.map((row) => h('div', { class: 'fields' }, ...row.map(control))),
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
    h('a', { href: '#/calculations', class: 'button' }, 'Clear'),
    h('label', { class: 'inline' }, 'Per page ', limit)));

  // Export of the current filter (paging parameters left out).
  const format = h('select', { name: 'format' }, ...EXPORT_FORMATS.map((f) => h('option', { value: f }, f)));
  const progress = h('progress', { hidden: true });
  const exportNote = h('span', { class: 'hint', 'data-export-status': '' });
  let abort: AbortController | undefined;
  const exportButton = h('button', { type: 'button', 'data-action': 'export' }, 'Download');
  const stopButton = h('button', { type: 'button', hidden: true, onclick: () => abort?.abort() }, 'Stop');
  exportButton.onclick = async () => {
    const { limit: _l, ...params } = filter;
    abort = new AbortController();
    exportButton.disabled = true;
    stopButton.hidden = false;
    progress.hidden = false;
    progress.removeAttribute('value');
    exportNote.textContent = 'Starting…';
    try {
      const done = await exportToFile(ctx.session, ctx.config.url, params as CalculationParams, format.value as ExportFormat,
        (p) => { exportNote.textContent = `${fmtInt(p.records)} calculations, ${fmtBytes(p.bytes)}`; }, abort.signal);
      progress.value = progress.max = 1;
      exportNote.textContent = `Saved ${done.filename}: ${fmtInt(done.records)} calculations, ${fmtBytes(done.bytes)}.`;
      exportNote.dataset.exportStatus = 'done';
    } catch (err) {
      progress.hidden = true;
      if (abort.signal.aborted) exportNote.textContent = 'Stopped.';
      else ctx.fail(exportNote, err);
    } finally {
      exportButton.disabled = false;
      stopButton.hidden = true;
    }
  };
  const exportBox = h('div', { class: 'card export' },
    h('strong', {}, 'Export this selection'), h('label', { class: 'inline' }, 'Format ', format), exportButton, stopButton, progress, exportNote);

  const table = h('div', { class: 'table-wrap' }, h('p', { class: 'hint' }, 'Loading…'));
  const pager = h('div', { class: 'row pager' });
  replace(main, h('h1', {}, 'Calculations'), form, exportBox, table, pager);

  // Keyset paging: the cursors of the pages before this one, so Previous goes back exactly.
  const cursors: (string | undefined)[] = [undefined];
  async function load(index: number) {
    try {
      const page = await listCalculations(ctx.session.client, { ...filter, cursor: cursors[index] } as CalculationParams);
      cursors[index + 1] = page.next_cursor ?? undefined;
      replace(table, page.data.length ? rows(page.data) : h('p', { class: 'hint' }, 'No calculations match.'));
      replace(pager,
        h('button', { type: 'button', disabled: index === 0, onclick: () => void load(index - 1) }, '‹ Previous'),
        h('span', { class: 'hint' }, `page ${index + 1}`),
        h('button', { type: 'button', 'data-action': 'next-page', disabled: !page.next_cursor, onclick: () => void load(index + 1) }, 'Next ›'));
    } catch (err) {
      ctx.fail(table, err);
    }
  }
  void load(0);
}

function rows(data: CalculationRow[]): HTMLTableElement {
  const head = ['Formula', 'SMILES', 'Method', 'Task', 'Solvent', 'Status', 'Energy (Eh)', 'Gap (eV)', 'Dipole (D)', 'Atoms', 'Created'];
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...data.map((c) => h('tr', { 'data-calculation-id': c.id },
      h('td', {}, h('a', { href: `#/calculations/${c.id}` }, c.formula)),
      h('td', { class: 'mono ellipsis', title: c.canonical_smiles }, c.canonical_smiles),
      h('td', {}, c.method), h('td', {}, c.task), h('td', {}, c.solvent ?? 'gas'),
      h('td', {}, h('span', { class: `badge ${c.status}` }, c.status)),
      h('td', { class: 'num' }, fmt(c.total_energy_eh, 6)),
      h('td', { class: 'num' }, fmt(c.homo_lumo_gap_ev, 3)),
      h('td', { class: 'num' }, fmt(c.dipole_debye, 3)),
      h('td', { class: 'num' }, c.n_atoms),
      h('td', {}, fmtTime(c.created_at))))));
}
