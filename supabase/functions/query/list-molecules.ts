// GET /molecules: filter by InChIKey, SMILES (canonicalised by RDKit, so `OCC` finds ethanol),
// formula, name (case-insensitive substring) and tag; keyset pages in creation order.
import type { Context } from 'hono';
import { ListMoleculesQuery, type MoleculeRow, type Page } from '../../../shared/contract/query.ts';
import type { Deps } from '../_shared/app.ts';
import type { AuthEnv } from '../_shared/auth.ts';
import { withCaller, type Tx } from '../_shared/db.ts';
import { resolveOwner } from '../_shared/owner.ts';
import { iso, resolveSmiles, type Fragment } from './calculation-sql.ts';
import { decodeMoleculeCursor, encodeCursor } from './cursor.ts';
import { parseQuery } from './params.ts';

export const moleculeColumns = (tx: Tx) => tx`
  m.id, m.canonical_smiles, m.inchikey, m.formula, m.name, m.input_smiles, m.n_atoms, m.tags, m.metadata,
  ${iso(tx, tx`m.created_at`)} as created_at, ${iso(tx, tx`m.updated_at`)} as updated_at`;

/** `%`, `_` and `\` match themselves in the name filter. */
const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export function listMolecules(deps: Deps) {
  return async (c: Context<AuthEnv>) => {
    const q = parseQuery(ListMoleculesQuery, c);
    const claims = c.get('claims');
    const actAs = resolveOwner(claims, q.user_id, 'query');
    const cursor = q.cursor ? decodeMoleculeCursor(q.cursor) : undefined;
    const smilesKey = await resolveSmiles(q.smiles);
    const page = await withCaller(deps.sql, claims, async (tx) => {
      const w: Fragment[] = [tx`true`];
      if (q.inchikey !== undefined) w.push(tx`m.inchikey = ${q.inchikey}`);
      if (smilesKey !== undefined) w.push(tx`m.molecule_key = ${smilesKey}`);
      if (q.formula !== undefined) w.push(tx`m.formula = ${q.formula}`);
      if (q.name !== undefined) w.push(tx`m.name ilike ${likePattern(q.name)}`);
      if (q.tag !== undefined) w.push(tx`m.tags @> ${[q.tag]}::text[]`);
      if (cursor) w.push(tx`(m.created_at, m.id) > (${cursor.v}::text::timestamptz, ${cursor.id}::uuid)`);
      const where = w.reduce((acc, p) => tx`${acc} and ${p}`);
      const rows = await tx<MoleculeRow[]>`
        select ${moleculeColumns(tx)} from public.molecules m
         where ${where}
         order by m.created_at, m.id
         limit ${q.limit + 1}`;
      const more = rows.length > q.limit;
      const data = more ? rows.slice(0, q.limit) : [...rows];
      const last = data[data.length - 1];
      const result: Page<MoleculeRow> = {
        data,
        next_cursor: more ? encodeCursor({ r: 'molecules', v: last.created_at, id: last.id }) : null,
      };
      return result;
    }, { actAs, statementTimeoutMs: deps.env.statementTimeoutMs });
    return c.json(page, 200);
  };
}
