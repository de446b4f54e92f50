// Streams a query's rows to an HTTP body from a server-side cursor, inside the caller's RLS
// transaction. Rows are fetched `chunkRows` at a time and only when the body's reader wants more
// (ReadableStream `pull`): a slow client slows the query instead of filling memory. A client that
// disconnects cancels the body: the cursor is closed, which stops the query, and the transaction
// ends (the request's AbortSignal is not used: Deno.serve aborts it on successful responses too).
// The first chunk is fetched before answering, so a query that fails at once is an ordinary JSON
// error response; a failure later cuts the body short, which HTTP clients report as an error.
import type postgres from 'postgres';
import type { Db } from '../_shared/caller.ts';
import type { Tx } from '../_shared/db.ts';

export interface RowStreamOptions<M> {
  /** The request's runner (c.var.db): the stream lives in its transaction. */
  db: Db;
  /**
   * Runs first, in the transaction: settings and look-ups; returns the query to stream, which then
   * runs under EXPORT_STATEMENT_TIMEOUT_MS.
   */
  prepare: (tx: Tx) => Promise<{ query: StreamableQuery; meta: M }>;
  chunkRows: number;
  /** One chunk of rows to bytes or text (the rows arrive in order). */
  encode: (rows: postgres.Row[]) => Uint8Array | string;
  /** Written before the first row, even when there is none (a CSV header). */
  prefix?: string;
}

/** A query whose rows are parsed values, or raw column bytes (`.raw()`). */
export type StreamableQuery = postgres.PendingQuery<postgres.Row[]> | postgres.PendingRawQuery<postgres.Row[]>;

/**
 * statement_timeout of the streaming statement. PostgreSQL times a suspended portal from its first
 * fetch to its last, so the export would otherwise end after DB_STATEMENT_TIMEOUT_MS however fast
 * each chunk is. A hosted function is stopped well before this (150–400 s): take long exports in
 * parts with `limit` and X-Next-Cursor.
 */
export const EXPORT_STATEMENT_TIMEOUT_MS = 15 * 60_000;

type Chunk = IteratorResult<postgres.Row[], undefined>;

/**
 * Chunks fetched ahead of the reader: the database works on the next ones while the last is sent.
 * Memory stays bounded by QUEUED_CHUNKS × chunkRows rows.
 */
const QUEUED_CHUNKS = 4;

export function streamRows<M>(o: RowStreamOptions<M>): Promise<{ body: ReadableStream<Uint8Array>; meta: M }> {
  return new Promise((resolveReady, rejectReady) => {
    let answered = false;
    const transaction = o.db(async (tx) => {
      const { query, meta } = await o.prepare(tx);
      // The look-ups of `prepare` ran under the request's timeout; the streaming statement gets its own.
      await tx`select set_config('statement_timeout', ${String(EXPORT_STATEMENT_TIMEOUT_MS)}, true)`;
      const rows = (query as postgres.PendingQuery<postgres.Row[]>).cursor(o.chunkRows)[Symbol.asyncIterator]() as
        AsyncIterator<postgres.Row[], undefined>;
      let first: Chunk | undefined = await rows.next();

      let finish!: (err?: unknown) => void;
      const finished = new Promise<void>((resolve, reject) => {
        finish = (err) => (err === undefined ? resolve() : reject(err));
      });
      let ended = false;
      // The fetch in progress, if any: closing the cursor must wait for it (postgres.js can only
      // close a suspended portal).
      let inFlight: Promise<unknown> = Promise.resolve();
      const encoder = new TextEncoder();
      let prefix = o.prefix ?? '';

      const close = async () => {
        if (ended) return;
        ended = true;
        await inFlight.catch(() => {});
        try {
          await rows.return?.();
        } finally {
          finish();
        }
      };

      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          if (ended) return;
          try {
            let next: Chunk;
            if (first) {
              next = first;
              first = undefined;
            } else {
              const fetching = rows.next();
              inFlight = fetching;
              next = await fetching;
            }
            if (ended) return;
            if (prefix) {
              controller.enqueue(encoder.encode(prefix));
              prefix = '';
            }
            if (next.done) {
              ended = true;
              controller.close();
              finish();
              return;
            }
            const chunk = o.encode(next.value);
            controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
          } catch (err) {
            ended = true;
            controller.error(err);
            finish(err);
          }
        },
        cancel: () => close(),
      }, { highWaterMark: QUEUED_CHUNKS });

      answered = true;
      resolveReady({ body, meta });
      // The transaction stays open until the body is read to its end or cancelled.
      await finished;
    });

    transaction.catch((err) => {
      if (!answered) rejectReady(err);
      else console.error('export stream ended with an error', err);
    });
  });
}
