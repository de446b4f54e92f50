// Events: the recent entries of the event log, newest first, filterable by type and entity, with
// older ones read on by keyset cursor.
import { listEvents, type EventParams } from '../../../shared/client-query.ts';
import { ENTITY_TYPES, EVENT_TYPES, type EventRow } from '../../../shared/contract/query.ts';
import { fmtTime, h, replace } from '../dom.ts';
import type { PageContext } from '../main.ts';

const PAGE = 50;

export function renderEvents(main: HTMLElement, ctx: PageContext): void {
  const select = (name: string, options: readonly string[], label: string) => {
    const el = h('select', { name, onchange: () => { location.hash = `#/events?${query()}`; } },
      h('option', { value: '' }, label), ...options.map((o) => h('option', { value: o }, o)));
    el.value = ctx.params.get(name) ?? '';
    return el;
  };
  const type = select('event_type', EVENT_TYPES, 'all event types');
  const entity = select('entity_type', ENTITY_TYPES, 'all entities');
  const query = () => new URLSearchParams(Object.entries({ event_type: type.value, entity_type: entity.value }).filter(([, v]) => v));
  const tbody = h('tbody', {});
  const status = h('div', {});
  const more = h('button', { type: 'button', hidden: true }, 'Older events');
  replace(main,
    h('div', { class: 'title-row' }, h('h1', {}, 'Events'), type, entity,
      h('button', { type: 'button', onclick: () => { tbody.replaceChildren(); void load(undefined); } }, 'Refresh')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data events' },
      h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Entity', 'Id', 'Actor', 'Details'].map((t) => h('th', {}, t)))), tbody)),
    status, more);

  async function load(cursor: string | undefined) {
    more.hidden = true;
    try {
      const params: EventParams = { limit: PAGE, cursor };
      if (type.value) params.event_type = type.value as EventRow['event_type'];
      if (entity.value) params.entity_type = entity.value as EventRow['entity_type'];
      const page = await listEvents(ctx.session.client, params);
      tbody.append(...page.data.map(row));
      replace(status, tbody.children.length ? null : h('p', { class: 'hint' }, 'No events.'));
      if (page.next_cursor) {
        more.hidden = false;
        more.onclick = () => void load(page.next_cursor!);
      }
    } catch (err) {
      ctx.fail(status, err);
    }
  }
  void load(undefined);
}

function row(e: EventRow): HTMLTableRowElement {
  const link = e.entity_type === 'calculation' && e.entity_id && !e.event_type.endsWith('_deleted')
    ? h('a', { href: `#/calculations/${e.entity_id}`, class: 'mono' }, e.entity_id.slice(0, 8))
    : h('span', { class: 'mono', title: e.entity_id ?? '' }, e.entity_id?.slice(0, 8) ?? '–');
  return h('tr', { 'data-event-type': e.event_type },
    h('td', {}, fmtTime(e.created_at)),
    h('td', {}, h('span', { class: `badge ${e.event_type.split('_').pop()}` }, e.event_type)),
    h('td', {}, e.entity_type),
    h('td', {}, link),
    h('td', { class: 'actor', title: JSON.stringify(e.actor) }, actorLabel(e.actor)),
    h('td', { class: 'payload' }, h('details', {}, h('summary', {}, summary(e.payload)), h('pre', {}, JSON.stringify(e.payload, null, 2)))));
}

/**
 * Who caused the event, from its `actor`: a user's id (short), the service role acting for a user,
 * or the bare role (`database` for maintenance); '–' for events from before actors were recorded.
 */
function actorLabel(actor: EventRow['actor']): string {
  const short = (id: string) => id.slice(0, 8);
  if (actor.acting_for) return `${actor.role ?? 'service'} for ${short(actor.acting_for)}`;
  if (actor.sub) return `user ${short(actor.sub)}`;
  return actor.role ?? '–';
}

/** The payload's short fields as `key value` pairs; ids and nested values stay in the expanded JSON. */
function summary(payload: Record<string, unknown>): string {
  const parts = Object.entries(payload)
    .filter(([k, v]) => !k.endsWith('_id') && v !== null && typeof v !== 'object' && String(v).length <= 40)
    .map(([k, v]) => `${k} ${v}`);
  return parts.slice(0, 6).join(' · ') || '(details)';
}
