// Sends one batch of parsed jobs through the typed client. The client already retries 503s and
// network errors. A request the server refuses as a whole (4xx other than auth) is split in halves
// until the item that causes it is alone, so one odd job never costs its 199 neighbours; that item is
// answered as `rejected` with the server's message. Auth and owner refusals are fatal: they would
// fail every request alike.
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
      if (!isItemSpecific(err)) throw err;
      if (jobs.length === 1) {
        return [{
          index: 0, outcome: 'rejected', calculation_id: null, molecule_id: null,
          errors: [{ path: '', issue: `the server refused it (HTTP ${err.status}): ${err.message}` }],
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
