// PATCH /ingest/molecules/:id and /ingest/calculations/:id: names, tags and metadata only.
// Identity and results are refused with 422, so a correction can never rewrite what was computed.
import type { Context } from 'hono';
import {
  CALCULATION_LOCKED_FIELDS, MOLECULE_IDENTITY_FIELDS, PatchCalculationBody, PatchMoleculeBody,
} from '../../../shared/contract/manage.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller } from '../_shared/db.ts';
import { notFound, unprocessable } from '../_shared/errors.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { parseOr, readJsonBody } from '../_shared/validate.ts';
import { routeId } from './route-params.ts';

const MAX_PATCH_BYTES = 1024 * 1024;

function refuseLocked(body: unknown, locked: readonly string[], what: string): void {
  if (!body || typeof body !== 'object') return;
  const hits = locked.filter((k) => k in body);
  if (hits.length) {
    throw unprocessable(`${hits.join(', ')}: ${what} cannot be edited; ingest the corrected data instead`,
      hits.map((path) => ({ path, issue: `${what} cannot be edited` })));
  }
}

export function patchMolecule(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = routeId(c);
    const raw = await readJsonBody(c, MAX_PATCH_BYTES);
    refuseLocked(raw, MOLECULE_IDENTITY_FIELDS, 'a molecule\'s identity');
    const body = parseOr(PatchMoleculeBody, raw);
    const actAs = resolveOwner(c.get('claims'), body.user_id);
    const [row] = await withCaller(deps.sql, c.get('claims'), (tx) => tx`
      update public.molecules
         set name = case when ${body.name !== undefined} then ${body.name ?? null} else name end,
             tags = coalesce(${body.tags ?? null}::text[], tags),
             metadata = metadata || ${tx.json((body.metadata ?? {}) as never)}::jsonb
       where id = ${id}
      returning id, canonical_smiles, inchikey, formula, name, input_smiles, n_atoms, tags, metadata,
                created_at, updated_at`, { actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    if (!row) throw notFound('molecule');
    return c.json(row);
  };
}

export function patchCalculation(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const id = routeId(c);
    const raw = await readJsonBody(c, MAX_PATCH_BYTES);
    refuseLocked(raw, CALCULATION_LOCKED_FIELDS, 'results and identity');
    const body = parseOr(PatchCalculationBody, raw);
    const actAs = resolveOwner(c.get('claims'), body.user_id);
    const [row] = await withCaller(deps.sql, c.get('claims'), (tx) => tx`
      update public.calculations
         set tags = coalesce(${body.tags ?? null}::text[], tags),
             metadata = metadata || ${tx.json((body.metadata ?? {}) as never)}::jsonb
       where id = ${id}
      returning id, molecule_id, method, task, solvent, status, tags, metadata, created_at, updated_at`,
      { actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    if (!row) throw notFound('calculation');
    return c.json(row);
  };
}
