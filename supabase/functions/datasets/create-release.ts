// POST /datasets/:id/releases: freezes a selection (any /query/calculations filter, explicit ids,
// or both; completed calculations only) as the dataset's next release. In this request's
// transaction public.create_release writes the release (status sealing) and its members in
// canonical order with their splits, and the first part of the canonical ndjson export is hashed
// as it streams from a cursor (seal-part.ts). When that was all of it, public.seal_release
// computes the manifest and publishes the release: 201. Otherwise the SHA-256 state is saved in
// the release row and the answer is 202 with where to continue (POST …/seal, seal-release.ts);
// the typed client and `npm run release` follow. Nothing is visible until the transaction commits,
// and a sealing release is listed nowhere and exports nothing.
//
// CPU: each request hashes at most RELEASE_PART_ROWS members (about 50 µs of the function's CPU
// each, bench:release), so a hosted function's 2 s per request holds a release of any size.
import { CreateReleaseBody, type Manifest } from '../../../shared/contract/datasets.ts';
import { filterClause, resolveFilters } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import type { Tx } from '../_shared/db.ts';
import { conflict, notFound, unprocessable } from '../_shared/errors.ts';
import { parseBody, uuidParam } from '../_shared/params.ts';
import { EXPORT_STATEMENT_TIMEOUT_MS } from '../_shared/row-stream.ts';
import { partResponse, sealingColumns, sealNextPart, type SealingRow } from './seal-part.ts';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function createRelease(c: RequestContext, partRows: number): Promise<Response> {
  const datasetId = uuidParam(c);
  const body = await parseBody(c, CreateReleaseBody, MAX_BODY_BYTES);
  if (body.filters?.user_id !== undefined) {
    throw unprocessable('filters.user_id: name the user with the top-level user_id', [{ path: 'filters.user_id', issue: 'not allowed here' }]);
  }
  const filters = body.filters && await resolveFilters(body.filters);
  const ids = body.calculation_ids ?? [];
  const facts = {
    description: body.description, license: body.license, authors: body.authors, doi: body.doi, citation: body.citation,
    selection: { filters: body.filters ?? null, calculation_ids: body.calculation_ids ?? null },
    ...(body.split && {
      split: { seed: body.split.seed, fractions: [body.split.fractions.train, body.split.fractions.validation, body.split.fractions.test] },
    }),
  };

  // Writing the members reads every selected calculation (47 s for 10^6): as long as an export may take.
  const part = await c.var.db(async (tx) => {
    const [dataset] = await tx`select id from public.datasets where id = ${datasetId}::uuid`;
    if (!dataset) throw notFound('dataset');
    if (ids.length) {
      // Each explicit id must be one of the caller's completed calculations: name the first bad ones.
      const bad = await tx<{ i: number }[]>`
        select s.i::int - 1 as i from unnest(${ids}::uuid[]) with ordinality as s(id, i)
         where not exists (select 1 from public.calculations c where c.id = s.id and c.status = 'completed')
         order by s.i limit 20`;
      if (bad.length) {
        throw unprocessable(`calculation_ids[${bad[0].i}]: not one of your completed calculations`,
          bad.map((b) => ({ path: `calculation_ids[${b.i}]`, issue: 'not one of your completed calculations' })));
      }
    }
    const selected = filters ? filterClause(tx, filters) : tx`false`;
    const [made] = await tx<SealingRow[]>`
      select ${sealingColumns(tx)} from public.create_release(${datasetId}::uuid, ${tx.json(facts as never)}::jsonb, array(
        select c.id
          from public.calculations c join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
         where c.status = 'completed' and (${selected} or c.id = any(${ids}::uuid[])))) r`;
    const [{ held }] = await tx<{ held: boolean }[]>`
      select exists (select 1 from public.release_members rm where rm.release_id = ${made.id}::uuid) as held`;
    if (!held) {
      throw unprocessable('the selection holds no completed calculation', [{ path: body.filters ? 'filters' : 'calculation_ids', issue: 'selects no completed calculation' }]);
    }
    if (body.reference_energies) await refuseWithoutE0(tx, made.id);
    return sealNextPart(tx, made, partRows);
  }, { statementTimeoutMs: EXPORT_STATEMENT_TIMEOUT_MS });
  return partResponse(c, part);
}

/**
 * `reference_energies: true` and an element of the release has no E0 under one of its
 * specifications: 409, one detail per missing atom saying what to run (the transaction rolls back,
 * so no release is made). Checked before any hashing, from the members' atoms; the manifest
 * states the E0 again when the last part seals the release (docs/releases.md).
 */
async function refuseWithoutE0(tx: Tx, releaseId: string): Promise<void> {
  const [{ missing }] = await tx<{ missing: Manifest['reference_energies']['missing'] }[]>`
    select public.reference_atom_energies(
             coalesce(array_agg(a.specification_id order by a.specification_id, a.element), '{}'),
             coalesce(array_agg(a.element order by a.specification_id, a.element), '{}')) -> 'missing' as missing
      from public.release_atom_counts(${releaseId}::uuid) a`;
  if (!missing.length) return;
  const what = (m: (typeof missing)[number]) => m.multiplicity === null
    ? `${m.element}: no ground-state multiplicity is known for this element`
    : `${m.element} (multiplicity ${m.multiplicity}, charge 0) under specification ${m.specification} ${JSON.stringify(m.spec)}`;
  throw conflict(`no reference atom energy for ${missing.map((m) => m.element).join(', ')}: run the atoms with the release's specification first`,
    missing.slice(0, 50).map((m) => ({ path: 'reference_energies', issue: `missing E0 for ${what(m)}` })));
}
