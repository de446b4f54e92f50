// POST /datasets: a new, empty dataset; its releases are made with POST /datasets/:id/releases.
import { CreateDatasetBody, type Dataset } from '../../../shared/contract/datasets.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { conflict } from '../_shared/errors.ts';
import { parseBody, SMALL_BODY_BYTES } from '../_shared/params.ts';
import { datasetColumns } from './release-sql.ts';

export async function createDataset(c: RequestContext): Promise<Response> {
  const body = await parseBody(c, CreateDatasetBody, SMALL_BODY_BYTES);
  const dataset = await c.var.db(async (tx) => {
    const [row] = await tx<Dataset[]>`
      with d as (
        insert into public.datasets (name, description) values (${body.name}, ${body.description})
        on conflict (user_id, name) do nothing
        returning *)
      select ${datasetColumns(tx)} from d`;
    return row;
  });
  if (!dataset) throw conflict(`a dataset named ${body.name} exists`, [{ path: 'name', issue: 'already used by one of your datasets' }]);
  return c.json(dataset, 201);
}
