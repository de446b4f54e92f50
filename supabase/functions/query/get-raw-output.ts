// GET /calculations/:id/xtb.out: the xtb output a runner or the uploader kept with the result
// (--keep-raw-output), sent as stored: gzip bytes with `content-encoding: gzip`, so HTTP clients
// hand over the text and the SHA-256 header can be checked against it. 404 when the calculation
// is not the caller's or kept no output.
import type { Context } from 'hono';
import { GetByIdQuery } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { notFound } from '../_shared/errors.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseQuery, uuidParam } from './params.ts';

export function getRawOutput(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = uuidParam(c);
    const q = parseQuery(GetByIdQuery, c);
    const claims = c.get('claims');
    const [row] = await withCaller(deps.sql, claims, (tx) => tx<{ gzip: Uint8Array; sha256: string; bytes: string }[]>`
      select p.raw_output_gzip as gzip, p.raw_output_sha256 as sha256, p.raw_output_bytes::text as bytes
        from public.calculation_provenance p
       where p.calculation_id = ${id}::uuid and p.raw_output_gzip is not null`,
    { actAs: resolveOwner(claims, q.user_id, 'query'), statementTimeoutMs: deps.env.statementTimeoutMs });
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
  };
}
