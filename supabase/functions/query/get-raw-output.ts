// GET /calculations/:id/xtb.out: the xtb output a runner or the uploader kept with the result
// (--keep-raw-output), sent as stored: gzip bytes with `content-encoding: gzip`, so HTTP clients
// hand over the text and the SHA-256 header can be checked against it. 404 when the calculation
// is not the caller's or kept no output.
import { GetByIdQuery } from '../../../shared/contract/query.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { parseQuery, uuidParam } from '../_shared/params.ts';

export async function getRawOutput(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  parseQuery(c, GetByIdQuery);
  const [row] = await c.var.db((tx) => tx<{ gzip: Uint8Array; sha256: string; bytes: string }[]>`
    select p.raw_output_gzip as gzip, p.raw_output_sha256 as sha256, p.raw_output_bytes::text as bytes
      from public.calculation_provenance p
     where p.calculation_id = ${id}::uuid and p.raw_output_gzip is not null`);
  if (!row) throw notFound('kept xtb output of this calculation');
  return new Response(row.gzip as BodyInit, {
    status: 200,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
      'content-disposition': `attachment; filename="${id}.xtb.out"`,
      'x-content-sha256': row.sha256,
      'x-content-bytes': row.bytes,
      'cache-control': 'no-store',
    },
  });
}
