// PATCH /ingest/molecules/:id: a molecule's name, tags and metadata (merged); its identity is
// refused (patch-body.ts).
import { MOLECULE_IDENTITY_FIELDS, PatchMoleculeBody } from '../../../shared/contract/manage.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { notFound } from '../_shared/errors.ts';
import { uuidParam } from '../_shared/params.ts';
import { parsePatchBody } from './patch-body.ts';

export async function patchMolecule(c: RequestContext): Promise<Response> {
  const id = uuidParam(c);
  const body = await parsePatchBody(c, PatchMoleculeBody, MOLECULE_IDENTITY_FIELDS, 'a molecule\'s identity');
  const [row] = await c.var.db((tx) => tx`
    update public.molecules
       set name = case when ${body.name !== undefined} then ${body.name ?? null} else name end,
           tags = coalesce(${body.tags ?? null}::text[], tags),
           metadata = metadata || ${tx.json((body.metadata ?? {}) as never)}::jsonb
     where id = ${id}
    returning id, canonical_smiles, inchikey, formula, name, input_smiles, n_atoms, tags, metadata,
              created_at, updated_at`);
  if (!row) throw notFound('molecule');
  return c.json(row);
}
