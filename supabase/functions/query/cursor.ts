// Keyset cursors: opaque base64url JSON of the last row's sort value and id, with the route, sort
// key and direction they were made for. Decoding validates everything; anything else is a 400
// naming `cursor`. A cursor only says where to continue, so rows inserted meanwhile never shift a
// page: each row is listed once, in order.
import { z } from 'zod';
import { ORDERS, SORT_KEYS, type Order, type SortKey } from '../../../shared/contract/query.ts';
import { badRequest } from '../_shared/errors.ts';

/** created_at as the query returns it: UTC with microseconds. */
export const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const IsoMicros = z.string().regex(ISO_MICROS);
const FiniteNumber = z.number().refine(Number.isFinite);
const UuidText = z.uuid();

const Payload = z.discriminatedUnion('r', [
  // calculations (and export): sort key, direction, the sort value and the id.
  z.object({ r: z.literal('calculations'), s: z.enum(SORT_KEYS), o: z.enum(ORDERS), v: z.union([FiniteNumber, IsoMicros]), id: UuidText }).strict(),
  // molecules: created_at ascending.
  z.object({ r: z.literal('molecules'), v: IsoMicros, id: UuidText }).strict(),
  // events: created_at and the bigint id (as a string), in the given direction.
  z.object({ r: z.literal('events'), o: z.enum(ORDERS), v: IsoMicros, id: z.string().regex(/^\d{1,19}$/) }).strict(),
]).superRefine((p, ctx) => {
  if (p.r === 'calculations' && (p.s === 'created_at') !== (typeof p.v === 'string')) {
    ctx.addIssue({ code: 'custom', message: 'sort value does not match the sort key' });
  }
});
type Payload = z.infer<typeof Payload>;
export type CalculationCursor = Extract<Payload, { r: 'calculations' }>;
export type MoleculeCursor = Extract<Payload, { r: 'molecules' }>;
export type EventCursor = Extract<Payload, { r: 'events' }>;

export function encodeCursor(payload: Payload): string {
  return btoa(JSON.stringify(payload)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const malformed = (issue: string) => badRequest(`invalid query parameter cursor: ${issue}`, [{ path: 'cursor', issue }]);

function decode(text: string): Payload {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw malformed('not a cursor returned by this API');
  let json: unknown;
  try {
    json = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    throw malformed('not a cursor returned by this API');
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) throw malformed('not a cursor returned by this API');
  return parsed.data;
}

function expect<R extends Payload['r']>(text: string, route: R): Extract<Payload, { r: R }> {
  const p = decode(text);
  if (p.r !== route) throw malformed(`this cursor belongs to /${p.r}`);
  return p as Extract<Payload, { r: R }>;
}

/** A calculations cursor; `sort`/`order` given with it must be the ones it was made with. */
export function decodeCalculationCursor(text: string, sort: SortKey | undefined, order: Order | undefined): CalculationCursor {
  const p = expect(text, 'calculations');
  if ((sort && sort !== p.s) || (order && order !== p.o)) {
    throw malformed(`this cursor continues sort=${p.s}&order=${p.o}; drop sort/order or start without a cursor`);
  }
  return p;
}

export const decodeMoleculeCursor = (text: string): MoleculeCursor => expect(text, 'molecules');

export function decodeEventCursor(text: string, order: Order | undefined): EventCursor {
  const p = expect(text, 'events');
  if (order && order !== p.o) throw malformed(`this cursor continues order=${p.o}; drop order or start without a cursor`);
  return p;
}
