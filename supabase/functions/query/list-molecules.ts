// GET /molecules: filter by InChIKey, SMILES (canonicalised by RDKit, so `OCC` finds ethanol),
// formula, name (case-insensitive substring) and tag (the molecule's or one of its calculations');
// keyset pages in creation order.
import { ListMoleculesQuery, type MoleculeRow, type Page } from '../../../shared/contract/query.ts';
import { and, resolveSmiles } from '../_shared/calculation-filters.ts';
import type { RequestContext } from '../_shared/caller.ts';
import { CursorField, cursorCodec, iso } from '../_shared/cursor.ts';
import type { Fragment, Tx } from '../_shared/db.ts';
import { fetchPage } from '../_shared/page.ts';
import { cursorParam, parseQuery } from '../_shared/params.ts';

export const moleculeColumns = (tx: Tx) => tx`
  m.id, m.canonical_smiles, m.inchikey, m.formula, m.name, m.input_smiles, m.n_atoms, m.tags, m.metadata,
  ${iso(tx, tx`m.created_at`)} as created_at, ${iso(tx, tx`m.updated_at`)} as updated_at`;

/** Where the listing continues: after this molecule, in (created_at, id) order. */
const moleculeCursor = cursorCodec('molecules', { v: CursorField.time, id: CursorField.id });

/** `%`, `_` and `\` match themselves in the name filter. */
const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export async function listMolecules(c: RequestContext): Promise<Response> {
  const q = parseQuery(c, ListMoleculesQuery);
  const after = cursorParam(moleculeCursor, q.cursor);
  const smilesKey = await resolveSmiles(q.smiles);
  const page = await c.var.db((tx) => {
    const w: Fragment[] = [];
    if (q.inchikey !== undefined) w.push(tx`m.inchikey = ${q.inchikey}`);
    if (smilesKey !== undefined) w.push(tx`m.molecule_key = ${smilesKey}`);
    if (q.formula !== undefined) w.push(tx`m.formula = ${q.formula}`);
    if (q.name !== undefined) w.push(tx`m.name ilike ${likePattern(q.name)}`);
    // `tag`: the molecule's own tags, or any of its calculations' (where a batch's tags land).
    if (q.tag !== undefined) {
      w.push(tx`(m.tags @> ${[q.tag]}::text[] or exists (
        select 1 from public.calculations c
         where c.user_id = m.user_id and c.molecule_id = m.id and c.tags @> ${[q.tag]}::text[]))`);
    }
    if (after) w.push(tx`(m.created_at, m.id) > (${after.v}::text::timestamptz, ${after.id}::uuid)`);
    return fetchPage(q.limit, (n) => tx<MoleculeRow[]>`
      select ${moleculeColumns(tx)} from public.molecules m
       where ${and(tx, w)}
       order by m.created_at, m.id
       limit ${n}`, (last) => moleculeCursor.encode({ v: last.created_at, id: last.id }));
  });
  const response: Page<MoleculeRow> = { data: page.rows, next_cursor: page.next_cursor };
  return c.json(response, 200);
}
