// Sends one batch of parsed jobs through the typed client. The client already retries 503s and
// network errors, and sends again what the server's RDKit budget deferred. A request the server
// refuses as a whole (4xx other than auth) or fails on (a 5xx other than "database unavailable")
// is split in halves until the item that causes it is alone, so one odd job never costs its 199
// neighbours: a refused one is answered `rejected` with the server's message, one the server
// still fails on alone is reported as not stored (an `error` in the report, sent again by the
// next run). Auth and owner refusals are fatal: they would fail every request alike.
import { QfApiError, type QfClient } from '../../shared/client.ts';
import type { IngestItemResult } from '../../shared/contract/ingest.ts';
import type { ParsedJob } from '../../shared/xtb/index.ts';

/** A refused key, or an owner the server does not accept: stop the run. */
export function isFatal(err: unknown): boolean {
  if (!(err instanceof QfApiError)) return false;
  if (err.status === 401 || err.status === 403) return true;
  return err.status === 422 && (err.body?.error?.details ?? []).some((d) => d.path === 'user_id');
}

/** Refusals that depend on what was sent (a payload, a constraint), not on the server's health. */
const isItemSpecific = (err: unknown): err is QfApiError =>
  err instanceof QfApiError && [400, 409, 413, 422].includes(err.status) && !isFatal(err);

/**
 * The server failed on this request (a 500, or a gateway's 502/504 after the client's retries):
 * its content may be the cause, so halves are tried. A database that is down fails every request
 * alike, and a request that never got an answer says nothing about its content: no split.
 */
const isServerFailure = (err: unknown): err is QfApiError =>
  err instanceof QfApiError && err.status >= 500 && err.body?.error?.code !== 'database_unavailable';

export function describeFailure(err: unknown): string {
  if (err instanceof QfApiError) {
    return err.status === 0
      ? `ingest failed after retries: the server did not answer (${err.message})`
      : `ingest failed (HTTP ${err.status}): ${err.message}`;
  }
  return `ingest failed: ${(err as Error)?.message ?? String(err)}`;
}

export type Sender = (jobs: readonly ParsedJob[]) => Promise<IngestItemResult[]>;

export function makeSender(client: Pick<QfClient, 'ingest'>, userId: string | undefined): Sender {
  const send = async (jobs: readonly ParsedJob[]): Promise<IngestItemResult[]> => {
    try {
      return await client.ingest(jobs.map((j) => j.calculation!), userId ? { userId } : {});
    } catch (err) {
      const refused = isItemSpecific(err);
      if (!refused && !isServerFailure(err)) throw err;
      if (jobs.length === 1) {
        // `deferred` is reported as not stored (outcome `error`), not as an invalid job.
        return [{
          index: 0, outcome: refused ? 'rejected' : 'deferred', calculation_id: null, molecule_id: null,
          errors: [{ path: '', issue: `the server ${refused ? 'refused' : 'failed on'} it (HTTP ${err.status}): ${err.message}` }],
        }];
      }
      const mid = Math.ceil(jobs.length / 2);
      const left = await send(jobs.slice(0, mid));
      const right = await send(jobs.slice(mid));
      return [...left, ...right.map((r) => ({ ...r, index: r.index + mid }))];
    }
  };
  return send;
}
