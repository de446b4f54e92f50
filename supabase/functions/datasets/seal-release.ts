// POST /datasets/:id/releases/:version/seal: hashes the next part of a sealing release's content
// (seal-part.ts) and answers 202 with the progress, or 201 with the manifest when this part was
// the last. The release row is locked FOR UPDATE first, so two calls at once hash consecutive
// parts: the second waits for the first to commit and reads the progress it saved. A call on a
// release already sealed (a lost answer, a second client) answers 200 with the release as it is.
import { SealReleaseBody } from '../../../shared/contract/datasets.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseBody, uuidParam, versionParam } from '../_shared/params.ts';
import { EXPORT_STATEMENT_TIMEOUT_MS } from '../_shared/row-stream.ts';
import { findRelease, releaseResponse } from './release-sql.ts';
import { partResponse, sealingColumns, sealNextPart, type SealingRow } from './seal-part.ts';

export async function sealRelease(c: RequestContext, partRows: number): Promise<Response> {
  const datasetId = uuidParam(c);
  const version = versionParam(c);
  await parseBody(c, SealReleaseBody, 4096, { optional: true });

  // The last part computes the manifest over every member (seconds for 10^6): as long as making
  // the release may take.
  const answer = await c.var.db(async (tx) => {
    const [row] = await tx<(SealingRow & { status: string })[]>`
      select ${sealingColumns(tx)}, r.status
        from public.releases r
       where r.dataset_id = ${datasetId}::uuid and r.version = ${version}
         for update`;
    if (!row) throw notFound(`release ${version} of dataset ${datasetId}`);
    if (row.status !== 'sealing') return { already: await findRelease(tx, datasetId, version) };
    return sealNextPart(tx, row, partRows);
  }, { statementTimeoutMs: EXPORT_STATEMENT_TIMEOUT_MS });
  if ('already' in answer) return c.json(releaseResponse(answer.already), 200);
  return partResponse(c, answer);
}
