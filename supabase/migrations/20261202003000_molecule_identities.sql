-- private.molecule_identities: what RDKit said about an input SMILES, remembered across requests,
-- isolates and users, so that a molecule is identified once, ever (issue 17).
--
-- Why: identification is the costly part of a request. 1,000 new molecules cost about 3 s of
-- CPU with RDKit (the hosted budget is 2 s per request), while the per-isolate cache forgets
-- everything at each cold start and every isolate starts empty. An identity is a pure function of
-- the input string and the RDKit version, so it can be computed once and shared.
--
-- Key: (identity_version, input_sha256). identity_version is RDKit's version plus the version of
-- our derivation rules (shared/chem/molecule.ts), so an upgrade identifies afresh instead of
-- trusting old answers. The SHA-256 of the SMILES keeps the key small whatever the input (a
-- 2,000-character SMILES can exceed a btree entry in UTF-8); input_smiles is kept beside it and
-- compared on read, so a collision could never return another molecule's identity.
-- Only identified molecules are stored: invalid SMILES are cheap to refuse again and would let
-- anyone fill the table.
--
-- Who may read it: nobody through the API. The table holds chemistry only (strings and what RDKit
-- derives from them), no user id and no result, but which SMILES were ever sent is itself a hint
-- of what someone works on. So it lives outside the exposed `public` schema (config.toml
-- [api] schemas), the API roles get no privilege on the schema or the table, and RLS is on with
-- no policy. Only the functions read and write it, through their own connection role (the
-- table's owner), outside the caller's RLS transaction. Deleting rows is always safe: it is a cache.

create schema if not exists private;
revoke all on schema private from public, anon, authenticated, service_role;

create table private.molecule_identities (
  identity_version text        not null,
  input_sha256     bytea       not null,
  input_smiles     text        not null,
  canonical_smiles text        not null,
  inchikey         text        not null,
  molecule_key     text        not null,
  formula          text        not null,
  n_atoms          integer     not null,
  -- Element counts with hydrogens, e.g. {"C": 2, "H": 6, "O": 1}.
  elements         jsonb       not null,
  created_at       timestamptz not null default now(),

  constraint molecule_identities_pkey primary key (identity_version, input_sha256),
  constraint molecule_identities_input_sha256_length check (octet_length(input_sha256) = 32),
  constraint molecule_identities_inchikey_format check (inchikey ~ '^[A-Z]{14}-[A-Z]{10}-[A-Z]$'),
  constraint molecule_identities_molecule_key_format check (molecule_key ~ '^[A-Z]{14}-[A-Z]{10}-[A-Z]$'),
  constraint molecule_identities_n_atoms_positive check (n_atoms >= 1),
  constraint molecule_identities_elements_object check (jsonb_typeof(elements) = 'object')
);

comment on table private.molecule_identities is
  'Cache of RDKit identities by (identity_version, sha256 of the input SMILES). Chemistry only, no user data; '
  'no API role may read it. Rows may be deleted at any time.';

alter table private.molecule_identities enable row level security;
revoke all on table private.molecule_identities from public, anon, authenticated, service_role;
