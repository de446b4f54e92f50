// GET /datasets: the caller's datasets by name, each with its sealed releases by version.
import { OwnerQuery, type ListDatasetsResponse } from '../../../shared/contract/datasets.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { parseQuery } from '../_shared/params.ts';
import { datasetColumns } from './release-sql.ts';

export async function listDatasets(c: RequestContext): Promise<Response> {
  parseQuery(c, OwnerQuery);
  const datasets = await c.var.db((tx) => tx<ListDatasetsResponse['data']>`
    select ${datasetColumns(tx)} from public.datasets d order by d.name`);
  return c.json({ data: datasets, next_cursor: null } satisfies ListDatasetsResponse);
}
