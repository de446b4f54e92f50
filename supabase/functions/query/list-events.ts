// GET /events: the caller's event_logs filtered by event_type, entity_type, entity_id and a
// created_at range, newest first by default, in keyset pages over (created_at, id).
import type { Context } from 'hono';
import { ListEventsQuery, type EventRow, type Page } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { iso, type Fragment } from './calculation-sql.ts';
import { decodeEventCursor, encodeCursor } from './cursor.ts';
import { parseQuery } from './params.ts';

export function listEvents(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const q = parseQuery(ListEventsQuery, c);
    const claims = c.get('claims');
    const actAs = resolveOwner(claims, q.user_id, 'query');
    const cursor = q.cursor ? decodeEventCursor(q.cursor, q.order) : undefined;
    const order = cursor?.o ?? q.order ?? 'desc';
    const page = await withCaller(deps.sql, claims, async (tx) => {
      const w: Fragment[] = [tx`true`];
      if (q.event_type !== undefined) w.push(tx`e.event_type = ${q.event_type}`);
      if (q.entity_type !== undefined) w.push(tx`e.entity_type = ${q.entity_type}`);
      if (q.entity_id !== undefined) w.push(tx`e.entity_id = ${q.entity_id}::uuid`);
      if (q.created_after !== undefined) w.push(tx`e.created_at >= ${q.created_after}::text::timestamptz`);
      if (q.created_before !== undefined) w.push(tx`e.created_at < ${q.created_before}::text::timestamptz`);
      if (cursor) {
        w.push(order === 'asc'
          ? tx`(e.created_at, e.id) > (${cursor.v}::text::timestamptz, ${cursor.id}::bigint)`
          : tx`(e.created_at, e.id) < (${cursor.v}::text::timestamptz, ${cursor.id}::bigint)`);
      }
      const where = w.reduce((acc, p) => tx`${acc} and ${p}`);
      const rows = await tx<(Omit<EventRow, 'id'> & { id: string })[]>`
        select e.id, e.event_type, e.entity_type, e.entity_id, e.payload, e.actor, ${iso(tx, tx`e.created_at`)} as created_at
          from public.event_logs e
         where ${where}
         order by ${order === 'asc' ? tx`e.created_at asc, e.id asc` : tx`e.created_at desc, e.id desc`}
         limit ${q.limit + 1}`;
      const more = rows.length > q.limit;
      const data = (more ? rows.slice(0, q.limit) : [...rows]);
      const last = data[data.length - 1];
      const result: Page<EventRow> = {
        // bigint ids arrive as strings; identity values stay far below 2^53.
        data: data.map((r) => ({ ...r, id: Number(r.id) })),
        next_cursor: more ? encodeCursor({ r: 'events', o: order, v: last.created_at, id: last.id }) : null,
      };
      return result;
    }, { actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(page, 200);
  };
}
