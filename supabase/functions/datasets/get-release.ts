// GET /datasets/:id/releases/:version: the release and its manifest (a withdrawn one says why; a
// sealing one, which has no manifest yet, is a 409 saying how far it is).
import { OwnerQuery } from '../../../shared/contract/datasets.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { parseQuery, uuidParam, versionParam } from '../_shared/params.ts';
import { findRelease, releaseResponse } from './release-sql.ts';

export async function getRelease(c: RequestContext): Promise<Response> {
  const datasetId = uuidParam(c);
  const version = versionParam(c);
  parseQuery(c, OwnerQuery);
  const release = await c.var.db((tx) => findRelease(tx, datasetId, version));
  return c.json(releaseResponse(release));
}
