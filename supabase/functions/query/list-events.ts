// GET /events: the caller's event_logs filtered by event_type, entity_type, entity_id and a
// created_at range, newest first by default, in keyset pages over (created_at, id).
import { z } from 'zod';
import { ListEventsQuery, ORDERS, type EventRow, type Page } from '../../../shared/contract/query.ts';
import { and } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { CursorField, cursorCodec, cursorError, iso } from '../_shared/cursor.ts';
import type { Fragment } from '../_shared/db.ts';
import { fetchPage } from '../_shared/page.ts';
import { cursorParam, parseQuery } from '../_shared/params.ts';

/** Where the listing continues: after this event, in the direction it was made for. */
const eventCursor = cursorCodec('events', { o: z.enum(ORDERS), v: CursorField.time, id: CursorField.bigint });

export async function listEvents(c: RequestContext): Promise<Response> {
  const q = parseQuery(c, ListEventsQuery);
  const after = cursorParam(eventCursor, q.cursor);
  if (after && q.order && q.order !== after.o) {
    throw cursorError(`this cursor continues order=${after.o}; drop order or start without a cursor`);
  }
  const order = after?.o ?? q.order ?? 'desc';
  const page = await c.var.db((tx) => {
    const w: Fragment[] = [];
    if (q.event_type !== undefined) w.push(tx`e.event_type = ${q.event_type}`);
    if (q.entity_type !== undefined) w.push(tx`e.entity_type = ${q.entity_type}`);
    if (q.entity_id !== undefined) w.push(tx`e.entity_id = ${q.entity_id}::uuid`);
    if (q.created_after !== undefined) w.push(tx`e.created_at >= ${q.created_after}::text::timestamptz`);
    if (q.created_before !== undefined) w.push(tx`e.created_at < ${q.created_before}::text::timestamptz`);
    if (after) {
      w.push(order === 'asc'
        ? tx`(e.created_at, e.id) > (${after.v}::text::timestamptz, ${after.id}::bigint)`
        : tx`(e.created_at, e.id) < (${after.v}::text::timestamptz, ${after.id}::bigint)`);
    }
    return fetchPage(q.limit, (n) => tx<(Omit<EventRow, 'id'> & { id: string })[]>`
      select e.id, e.event_type, e.entity_type, e.entity_id, e.payload, e.actor, ${iso(tx, tx`e.created_at`)} as created_at
        from public.event_logs e
       where ${and(tx, w)}
       order by ${order === 'asc' ? tx`e.created_at asc, e.id asc` : tx`e.created_at desc, e.id desc`}
       limit ${n}`, (last) => eventCursor.encode({ o: order, v: last.created_at, id: last.id }));
  });
  const response: Page<EventRow> = {
    // bigint ids arrive as strings; identity values stay far below 2^53.
    data: page.rows.map((r) => ({ ...r, id: Number(r.id) })),
    next_cursor: page.next_cursor,
  };
  return c.json(response, 200);
}
