// Keyset cursors, one codec for every list route: base64url of the JSON `{"r": <listing>, …}` that
// says where the next page continues. Clients pass them back as opaque strings. Decoding checks
// everything the listing's query will cast, so the database never sees a bad value: a time is a
// real instant in the exact text iso() writes, a bigint fits in 2^63 - 1, a number is finite, an
// id is a UUID. Any other cursor, including one made for another listing, is a 400
// invalid_parameter naming `cursor`. A cursor only says where to continue, so rows inserted
// meanwhile never shift a page: each row is listed once, in order.
import { z } from 'zod';
import { Uuid } from '../../../shared/contract/common.ts';
import type { Fragment, Tx } from './db.ts';
import { badRequest } from './errors.ts';

/**
 * A time as cursors (and responses) carry it: ISO 8601 in UTC with microseconds, exact (a JS Date
 * would drop the microseconds) and sortable. It goes back to SQL as `${text}::text::timestamptz`:
 * a parameter typed timestamptz would go through postgres.js' Date serialiser and lose them.
 */
export const iso = (tx: Tx, column: Fragment): Fragment =>
  tx`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const ISO_MICROS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const BIGINT_MAX = 2n ** 63n - 1n;

function isInstant(text: string): boolean {
  const m = ISO_MICROS.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year >= 1 && days !== undefined && day >= 1 && day <= days && hour < 24 && minute < 60 && second < 60;
}

/** Field types of cursor payloads. */
export const CursorField = {
  time: z.string().refine(isInstant),
  // One check: zod would run a refine after a failed regex, and BigInt('1.5') throws.
  bigint: z.string().refine((s) => /^\d{1,19}$/.test(s) && BigInt(s) <= BIGINT_MAX),
  /** JSON cannot carry NaN or Infinity, and zod refuses them. */
  number: z.number(),
  id: Uuid,
};

export interface CursorCodec<P> {
  encode(payload: P): string;
  /** The payload, or a 400 naming `cursor`. */
  decode(text: string): P;
}

export const cursorError = (issue: string) =>
  badRequest(`invalid query parameter cursor: ${issue}`, [{ path: 'cursor', issue }]);

const NOT_OURS = 'not a cursor returned by this API';
/** The listings that have a codec, to tell a cursor of another listing from garbage. */
const listings = new Set<string>();

const toBase64Url = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * The codec of one listing's cursors. `check` adds rules across fields; it returns the issue of a
 * payload that the fields alone would let through.
 */
export function cursorCodec<S extends z.ZodRawShape>(
  listing: string,
  shape: S,
  check: (payload: z.output<z.ZodObject<S>>) => string | undefined = () => undefined,
): CursorCodec<z.output<z.ZodObject<S>>> {
  listings.add(listing);
  const schema = z.object({ r: z.literal(listing), ...shape }).strict();
  return {
    encode: (payload) => toBase64Url(JSON.stringify({ r: listing, ...payload })),
    decode: (text) => {
      if (!/^[A-Za-z0-9_-]+$/.test(text)) throw cursorError(NOT_OURS);
      let json: unknown;
      try {
        json = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/')));
      } catch {
        throw cursorError(NOT_OURS);
      }
      const r = (json as { r?: unknown } | null)?.r;
      if (typeof r === 'string' && r !== listing && listings.has(r)) throw cursorError(`this cursor belongs to the ${r} listing`);
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw cursorError(NOT_OURS);
      const { r: _, ...payload } = parsed.data as Record<string, unknown>;
      const issue = check(payload as z.output<z.ZodObject<S>>);
      if (issue) throw cursorError(issue);
      return payload as z.output<z.ZodObject<S>>;
    },
  };
}
