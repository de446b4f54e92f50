// POST /datasets/:id/releases: freezes a selection (any /query/calculations filter, explicit ids,
// or both; completed calculations only) as the dataset's next release, in one transaction:
// public.create_release writes the release and its members in canonical order with their splits,
// the canonical ndjson export is hashed here as it streams from a cursor, and public.seal_release
// computes the manifest and seals it (migration release_functions). Nothing is visible until the
// transaction commits.
//
// CPU: reading the ndjson rows and hashing them (node:crypto) cost 2.6 s of the function's CPU per
// 10^5 calculations of ~20 atoms (bench:release); a hosted function has 2 s of CPU per request,
// so docs/releases.md sets the hosted limit at 50,000 such calculations per release.
import { CreateReleaseBody, type Manifest } from '../../../shared/contract/datasets.ts';
import { filterClause, resolveFilters } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { conflict, notFound, unprocessable } from '../_shared/errors.ts';
import { parseBody, uuidParam } from '../_shared/params.ts';
import { EXPORT_STATEMENT_TIMEOUT_MS } from '../_shared/row-stream.ts';
import { digestNdjson, findRelease, releaseResponse } from './release-sql.ts';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function createRelease(c: RequestContext): Promise<Response> {
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

  const release = await c.var.db(async (tx) => {
    await tx`select set_config('statement_timeout', ${String(EXPORT_STATEMENT_TIMEOUT_MS)}, true)`;
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
    const [made] = await tx<{ id: string }[]>`
      select r.id from public.create_release(${datasetId}::uuid, ${tx.json(facts as never)}::jsonb, array(
        select c.id
          from public.calculations c join public.molecules m on m.id = c.molecule_id and m.user_id = c.user_id
         where c.status = 'completed' and (${selected} or c.id = any(${ids}::uuid[])))) r`;
    const [{ n }] = await tx<{ n: number }[]>`
      select count(*)::int as n from public.release_members where release_id = ${made.id}::uuid`;
    if (n === 0) {
      throw unprocessable('the selection holds no completed calculation', [{ path: body.filters ? 'filters' : 'calculation_ids', issue: 'selects no completed calculation' }]);
    }
    const content = await digestNdjson(tx, made.id);
    const [sealed] = await tx<{ version: number }[]>`select version from public.seal_release(${made.id}::uuid, ${content.sha256}, ${content.bytes})`;
    const found = await findRelease(tx, datasetId, sealed.version);
    if (body.reference_energies) refuseWithoutE0(found.manifest.reference_energies.missing);
    return found;
  });
  return c.json(releaseResponse(release), 201);
}

/**
 * `reference_energies: true` and an element of the release has no E0 under one of its
 * specifications: 409, one detail per missing atom saying what to run (the transaction rolls back,
 * so no release is made). The manifest is computed after the content hash, so a refusal costs that
 * hashing; the E0 batch is small and is run first (docs/releases.md).
 */
function refuseWithoutE0(missing: Manifest['reference_energies']['missing']): void {
  if (!missing.length) return;
  const what = (m: (typeof missing)[number]) => m.multiplicity === null
    ? `${m.element}: no ground-state multiplicity is known for this element`
    : `${m.element} (multiplicity ${m.multiplicity}, charge 0) under specification ${m.specification} ${JSON.stringify(m.spec)}`;
  throw conflict(`no reference atom energy for ${missing.map((m) => m.element).join(', ')}: run the atoms with the release's specification first`,
    missing.slice(0, 50).map((m) => ({ path: 'reference_energies', issue: `missing E0 for ${what(m)}` })));
}
