-- molecules.molecule_key: a key that keeps tautomers apart (issue 18).
--
-- Why: a molecule was identified by its standard InChIKey, which is the same for tautomers:
-- 2-pyridone (O=c1cccc[nH]1) and 2-hydroxypyridine (Oc1ccccn1) are both
-- UBQKCCHYAOITMY-UHFFFAOYSA-N, so the results of one were stored under the other's row.
-- The identity is now the InChIKey of the InChI with the fixed-H layer (RDKit's
-- get_inchi('/FixedH')): UBQKCCHYAOITMY-BRMMOCHJNA-N and UBQKCCHYAOITMY-QDQILVOLNA-N. The rule, and
-- the edge cases it was tested on, are in docs/molecule-identity.md.
--
--   molecule_key  unique per user: the molecule's identity (writers compute it with RDKit).
--   inchikey      still the standard InChIKey, now searchable rather than unique, so that
--                 `inchikey=UBQKCCHYAOITMY-UHFFFAOYSA-N` finds both tautomers.
--
-- Existing rows: SQL cannot run RDKit, so rows written before this migration keep a null key
-- until `npm run backfill:molecule-keys` computes it from their input_smiles (`npm start` runs it
-- after the migrations; on a hosted project run it once after `supabase db push`). Meanwhile the
-- writers adopt such a row when a request brings its molecule: same user, same standard InChIKey
-- and same RDKit canonical SMILES (public.ingest_calculations, public.add_batch_items).
-- A null key is distinct from every other (a plain unique constraint), so legacy rows coexist.

alter table public.molecules add column molecule_key text;

alter table public.molecules
  add constraint molecules_molecule_key_format check (molecule_key ~ '^[A-Z]{14}-[A-Z]{10}-[A-Z]$'),
  add constraint molecules_user_id_molecule_key_key unique (user_id, molecule_key);

-- The standard InChIKey no longer identifies a molecule: two tautomers of one user share it.
alter table public.molecules drop constraint molecules_user_id_inchikey_key;
-- …but it is still looked up (inchikey= filters, the adoption of legacy rows).
create index molecules_user_id_inchikey_idx on public.molecules (user_id, inchikey);

comment on column public.molecules.molecule_key is
  'InChIKey of the fixed-H InChI (RDKit get_inchi(''/FixedH'')): the molecule''s identity per user; keeps tautomers apart. '
  'Null only on rows written before 20261202003000 and not yet backfilled.';
comment on column public.molecules.inchikey is
  'Standard InChIKey (14-10-1 letters): searchable, shared by tautomers; not unique.';
comment on table public.molecules is
  'One row per distinct molecule per user (unique molecule_key: the fixed-H InChIKey). Canonicalisation is done by the writer with RDKit.';
