// Gives every molecule written without a molecule key (molecule_key null: written before keys
// existed, or by hand) its key, computed with RDKit from the SMILES it was first stored with: the
// part of molecules.molecule_key (20261126000105_molecules_calculations.sql) SQL alone cannot do. Idempotent and safe to run while the
// functions serve (they adopt such rows themselves when a request brings the molecule).
// A row whose key another row of the same user already holds (the same molecule stored twice,
// which only a canonical SMILES that changed between RDKit versions can cause) is left null and
// listed, for an owner to merge by hand.
import postgres from 'postgres';
import { identifyMolecule } from '../../shared/chem/molecule.ts';
import { loadRDKit } from '../../shared/chem/rdkit.ts';

export interface BackfillReport {
  keyed: number;
  /** Molecules whose key another row of the same user holds. */
  conflicts: string[];
  /** Molecules whose SMILES RDKit cannot identify today. */
  unidentified: string[];
}

const PAGE = 1000;

export async function backfillMoleculeKeys(dbUrl: string): Promise<BackfillReport> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, prepare: false });
  const report: BackfillReport = { keyed: 0, conflicts: [], unidentified: [] };
  try {
    const [{ left }] = await sql<{ left: boolean }[]>`select exists (select 1 from public.molecules where molecule_key is null) as left`;
    if (!left) return report;
    const rdkit = await loadRDKit();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows = await sql<{ id: string; user_id: string; input_smiles: string; canonical_smiles: string }[]>`
        select id, user_id, input_smiles, canonical_smiles from public.molecules
         where molecule_key is null and id > ${after}::uuid
         order by id limit ${PAGE}`;
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      const ids: string[] = [];
      const keys: string[] = [];
      const taken = new Set<string>();
      for (const r of rows) {
        const identity = identifyMolecule(rdkit, r.input_smiles) ?? identifyMolecule(rdkit, r.canonical_smiles);
        if (!identity) {
          report.unidentified.push(r.id);
          continue;
        }
        // One statement cannot see its own writes: a second row of the user with this key waits.
        const userKey = `${r.user_id} ${identity.molecule_key}`;
        if (taken.has(userKey)) {
          report.conflicts.push(r.id);
          continue;
        }
        taken.add(userKey);
        ids.push(r.id);
        keys.push(identity.molecule_key);
      }
      // A key another row of the user already holds is not taken (the row is listed instead): two
      // keyless rows of one molecule, or a keyless row of a molecule stored since with its key.
      const keyed = new Set((await sql<{ id: string }[]>`
        update public.molecules m
           set molecule_key = v.key
          from unnest(${ids}::uuid[], ${keys}::text[]) as v(id, key)
         where m.id = v.id and m.molecule_key is null
           and not exists (select 1 from public.molecules k where k.user_id = m.user_id and k.molecule_key = v.key)
        returning m.id`).map((r) => r.id));
      report.keyed += keyed.size;
      const [{ stillNull }] = await sql<{ stillNull: string[] }[]>`
        select coalesce(array_agg(id), '{}') as "stillNull" from public.molecules
         where id = any (${ids.filter((id) => !keyed.has(id))}::uuid[]) and molecule_key is null`;
      report.conflicts.push(...stillNull);
    }
    return report;
  } finally {
    await sql.end();
  }
}

export function describeBackfill(r: BackfillReport): string {
  const parts = [`molecule keys: ${r.keyed} molecule(s) keyed`];
  if (r.conflicts.length) parts.push(`${r.conflicts.length} left without a key because another row of the same user holds it (merge them): ${r.conflicts.slice(0, 20).join(', ')}`);
  if (r.unidentified.length) parts.push(`${r.unidentified.length} whose SMILES RDKit cannot identify: ${r.unidentified.slice(0, 20).join(', ')}`);
  return parts.join('; ');
}
