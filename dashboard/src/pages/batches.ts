// Batches: each batch with a progress bar by item status, kept live by polling while runners work;
// its failed items grouped by error class; and the existing routes behind Retry failed and Cancel.
import { cancel, getBatch, retry } from '../../../shared/client-batches.ts';
import { BATCH_STATUSES, ERROR_CLASSES, type Batch, type BatchItem, type BatchStatus } from '../../../shared/contract/batches.ts';
import { listBatchPage } from '../api.ts';
import { fmtDuration, fmtInt, fmtTime, h, replace } from '../dom.ts';
import type { PageContext } from '../main.ts';

/** How often the list is read again while a batch is pending or running, and otherwise. */
const ACTIVE_POLL_MS = 2000;
const IDLE_POLL_MS = 15000;
const PAGE_SIZE = 50;

/** Segments of the bar, in the order work flows through them. */
const SEGMENTS = [
  ['completed', 'completed_items'],
  ['failed', 'failed_items'],
  ['claimed', 'claimed_items'],
  ['pending', 'pending_items'],
  ['cancelled', 'cancelled_items'],
] as const;

const isActive = (b: Batch) => b.status === 'pending' || b.status === 'running';

/** The error class of a failed item: the outcome of its last attempt that failed. */
function errorClass(item: BatchItem): string {
  for (let i = item.attempt_history.length - 1; i >= 0; i--) {
    const outcome = item.attempt_history[i].outcome;
    if ((ERROR_CLASSES as readonly string[]).includes(outcome) || outcome === 'lease_expired') return outcome;
  }
  return 'unknown';
}

interface Card {
  el: HTMLElement;
  update(b: Batch): void;
}

function batchCard(first: Batch, ctx: PageContext, refresh: () => void): Card {
  let batch = first;
  let failuresFor = -1;
  const segs = SEGMENTS.map(([status]) => h('div', { class: `seg ${status}`, 'data-status': status }));
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, ...segs);
  const title = h('h2', {});
  const badge = h('span', { class: 'badge' });
  const meta = h('p', { class: 'hint' });
  const counts = h('p', { class: 'counts' });
  const failures = h('div', { class: 'failures' });
  const note = h('p', { class: 'hint', role: 'status' });
  const retryButton = h('button', { type: 'button', 'data-action': 'retry' });
  const cancelButton = h('button', { type: 'button', class: 'danger', 'data-action': 'cancel' }, 'Cancel batch');

  const act = async (button: HTMLButtonElement, run: () => Promise<string>) => {
    button.disabled = true;
    try {
      note.textContent = await run();
      refresh();
    } catch (err) {
      ctx.fail(note, err);
    } finally {
      button.disabled = false;
    }
  };
  retryButton.onclick = () => act(retryButton, async () => {
    const res = await retry(ctx.session.client, batch.id);
    return `${fmtInt(res.retried_items)} failed item${res.retried_items === 1 ? '' : 's'} sent back to pending.`;
  });
  cancelButton.onclick = () => {
    if (!confirm(`Cancel batch "${batch.name}"? Pending items will not run; items being computed may still finish.`)) return;
    void act(cancelButton, async () => {
      const res = await cancel(ctx.session.client, batch.id);
      return res.already_cancelled ? 'The batch was already cancelled.' : `Cancelled; ${fmtInt(res.cancelled_items)} items will not run.`;
    });
  };

  const el = h('article', { class: 'card batch', 'data-batch-id': first.id },
    h('div', { class: 'title-row' }, title, badge),
    meta, bar, counts, failures,
    h('div', { class: 'row' }, retryButton, cancelButton), note);

  async function loadFailures() {
    if (batch.failed_items === failuresFor) return;
    failuresFor = batch.failed_items;
    if (batch.failed_items === 0) return failures.replaceChildren();
    try {
      const page = await getBatch(ctx.session.client, batch.id, { status: 'failed', limit: 1000 });
      const groups = new Map<string, BatchItem[]>();
      for (const item of page.items) groups.set(errorClass(item), [...(groups.get(errorClass(item)) ?? []), item]);
      replace(failures, h('h3', {}, 'Failures by error class'),
        ...[...groups].sort((a, b) => b[1].length - a[1].length).map(([cls, items]) =>
          h('details', { class: 'failure', 'data-error-class': cls, 'data-count': items.length },
            h('summary', {}, h('code', {}, cls), ` × ${items.length}`),
            h('ul', {}, ...items.slice(0, 10).map((it) =>
              h('li', {}, h('span', { class: 'mono' }, it.name ?? it.smiles), ': ', (it.last_error ?? '').slice(0, 300)))),
            items.length > 10 ? h('p', { class: 'hint' }, `and ${items.length - 10} more`) : null)),
        page.next_cursor ? h('p', { class: 'hint' }, 'Showing the first 1,000 failed items.') : null);
    } catch (err) {
      failuresFor = -1;
      ctx.fail(failures, err);
    }
  }

  const update = (b: Batch) => {
    batch = b;
    title.textContent = b.name;
    badge.textContent = b.status;
    badge.className = `badge ${b.status}`;
    meta.textContent = `${b.method} · ${b.task}${b.solvent ? ` · ${b.solvent}` : ''} · priority ${b.priority} · created ${fmtTime(b.created_at)}`;
    const total = Math.max(1, b.total_items);
    SEGMENTS.forEach(([status, key], i) => {
      segs[i].style.width = `${(100 * b[key]) / total}%`;
      segs[i].dataset.count = String(b[key]);
      segs[i].title = `${status}: ${b[key]}`;
    });
    const done = b.completed_items + b.failed_items;
    bar.setAttribute('aria-valuenow', String(b.progress.percent_done ?? 0));
    bar.dataset.done = String(done);
    bar.dataset.total = String(b.total_items);
    replace(counts,
      h('strong', {}, `${fmtInt(done)} / ${fmtInt(b.total_items - b.cancelled_items)} finished`),
      b.progress.percent_done === null ? '' : ` (${b.progress.percent_done.toFixed(1)}%)`,
      ...SEGMENTS.map(([status, key]) => (b[key] ? h('span', { class: `legend ${status}` }, `${status} ${fmtInt(b[key])}`) : null)),
      isActive(b) && b.progress.items_per_minute ? ` · ${b.progress.items_per_minute.toFixed(1)} items/min · about ${fmtDuration(b.progress.eta_seconds)} left` : '');
    retryButton.textContent = `Retry failed (${fmtInt(b.failed_items)})`;
    retryButton.disabled = b.failed_items === 0;
    cancelButton.disabled = !isActive(b);
    void loadFailures();
  };
  update(first);
  return { el, update };
}

export function renderBatches(main: HTMLElement, ctx: PageContext): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const cards = new Map<string, Card>();
  const list = h('div', { class: 'batch-list' }, h('p', { class: 'hint' }, 'Loading…'));
  const updated = h('span', { class: 'hint', 'data-updated': '' });
  const status = h('select', { name: 'status', onchange: () => { cards.clear(); list.replaceChildren(); void poll(); } },
    h('option', { value: '' }, 'all statuses'), ...BATCH_STATUSES.map((s) => h('option', { value: s }, s)));
  replace(main, h('div', { class: 'title-row' }, h('h1', {}, 'Batches'), h('label', { class: 'inline' }, 'Status ', status), updated), list);

  async function poll(): Promise<void> {
    clearTimeout(timer);
    let active = false;
    if (!document.hidden) {
      try {
        const page = await listBatchPage(ctx.session.client, { status: (status.value || undefined) as BatchStatus | undefined, limit: PAGE_SIZE });
        if (stopped) return;
        if (page.batches.length === 0) replace(list, h('p', { class: 'hint' }, 'No batches yet. Create one with POST /functions/v1/batches (docs/api.md).'));
        const seen = new Set<string>();
        const ordered = page.batches.map((b) => {
          seen.add(b.id);
          let card = cards.get(b.id);
          if (card) card.update(b);
          else cards.set(b.id, card = batchCard(b, ctx, () => void poll()));
          return card.el;
        });
        for (const id of [...cards.keys()]) if (!seen.has(id)) cards.delete(id);
        if (ordered.length) list.replaceChildren(...ordered,
          page.next_cursor ? h('p', { class: 'hint' }, `The ${PAGE_SIZE} newest batches; choose a status to see others.`) : '');
        active = page.batches.some(isActive);
        updated.textContent = `updated ${new Date().toLocaleTimeString()}${active ? ', live' : ''}`;
      } catch (err) {
        if (stopped) return;
        ctx.fail(list, err);
      }
    }
    if (!stopped) timer = setTimeout(() => void poll(), active ? ACTIVE_POLL_MS : IDLE_POLL_MS);
  }
  const onVisible = () => { if (!document.hidden) void poll(); };
  document.addEventListener('visibilitychange', onVisible);
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
