-- Molecules, calculations and per-atom results.
--
--   molecules          one row per distinct molecule per user; identity is molecule_key, the
--                      InChIKey of the fixed-H InChI, so `OCC`, `CCO` and `C(O)C` (canonicalised by
--                      RDKit in the writing code) are one row, while tautomers are two:
--                      2-pyridone (O=c1cccc[nH]1) and 2-hydroxypyridine (Oc1ccccn1) share the
--                      standard InChIKey UBQKCCHYAOITMY-UHFFFAOYSA-N, which stored the results of
--                      one under the other's row, but have the keys UBQKCCHYAOITMY-BRMMOCHJNA-N and
--                      UBQKCCHYAOITMY-QDQILVOLNA-N. The standard InChIKey stays, searchable and not
--                      unique, so `inchikey=` finds every tautomer. The rule and the edge cases it
--                      was tested on: docs/molecule-identity.md.
--
--                      SQL cannot run RDKit, so a row written without a key (before keys existed,
--                      or by hand) keeps a null one until `npm run backfill:molecule-keys`
--                      computes it from input_smiles (`npm start` runs it; on a hosted project run
--                      it once after `supabase db push`). Meanwhile the writers adopt such a row
--                      when a request brings its molecule (public.adopt_legacy_molecules, below).
--                      A null key is distinct from every other, so such rows coexist.
--   calculations       one xTB run. Its identity (user, molecule, method, task, solvent, charge,
--                      multiplicity, input-geometry hash) is unique with nulls not distinct, so a
--                      rerun updates the row instead of making a second one. Status only moves
--                      forward (trigger calculations_status_transition).
--   atomic_properties  one row per atom of a calculation; written once, deleted with it.
--
-- Children reference their parent by (user_id, parent_id) -> parent (user_id, id), so a row can
-- never belong to another user than its parent; the unique (user_id, id) constraints exist for
-- those keys. Each such foreign key is covered by an index leading with the same columns, which
-- is also the index that row-level security filters with. RLS is enabled here (deny-all until
-- the policies of migration rls_grants) and the API roles' default privileges are revoked.

-- ---------------------------------------------------------------------------------------------
-- molecules
-- ---------------------------------------------------------------------------------------------
create table public.molecules (
  id               uuid        not null default gen_random_uuid(),
  user_id          uuid        not null default auth.uid(),
  canonical_smiles text        not null,
  inchikey         text        not null,
  molecule_key     text,
  formula          text        not null,
  name             text,
  input_smiles     text        not null,
  n_atoms          integer     not null,
  tags             text[]      not null default '{}',
  metadata         jsonb       not null default '{}',
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),

  constraint molecules_pkey primary key (id),
  constraint molecules_user_id_id_key unique (user_id, id),
  constraint molecules_user_id_molecule_key_key unique (user_id, molecule_key),
  constraint molecules_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
  constraint molecules_canonical_smiles_length check (char_length(canonical_smiles) between 1 and 2000),
  constraint molecules_input_smiles_length check (char_length(input_smiles) between 1 and 2000),
  constraint molecules_inchikey_format check (inchikey ~ '^[A-Z]{14}-[A-Z]{10}-[A-Z]$'),
  constraint molecules_molecule_key_format check (molecule_key ~ '^[A-Z]{14}-[A-Z]{10}-[A-Z]$'),
  constraint molecules_formula_format check (formula ~ '^[A-Z][A-Za-z0-9*]*([+-][0-9]*)?$'),
  constraint molecules_name_length check (char_length(name) <= 500),
  constraint molecules_n_atoms_positive check (n_atoms >= 1),
  constraint molecules_tags_no_nulls check (array_position(tags, null) is null),
  constraint molecules_metadata_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.molecules is
  'One row per distinct molecule per user (unique molecule_key: the fixed-H InChIKey). Canonicalisation is done by the writer with RDKit.';
comment on column public.molecules.canonical_smiles is 'RDKit canonical SMILES.';
comment on column public.molecules.inchikey is
  'Standard InChIKey (14-10-1 letters): searchable, shared by tautomers; not unique.';
comment on column public.molecules.molecule_key is
  'InChIKey of the fixed-H InChI (RDKit get_inchi(''/FixedH'')): the molecule''s identity per user; keeps tautomers apart. '
  'Null only on rows written without one and not yet backfilled (npm run backfill:molecule-keys).';
comment on column public.molecules.formula is 'Molecular formula in Hill order, with a trailing charge such as C2H5O- when charged.';
comment on column public.molecules.input_smiles is 'The SMILES as first typed by the user.';
comment on column public.molecules.n_atoms is 'Number of atoms including hydrogens.';

create index molecules_user_id_formula_idx on public.molecules (user_id, formula);
-- The standard InChIKey no longer identifies a molecule (two tautomers of one user share it), but
-- it is still looked up: inchikey= filters, and the adoption of rows without a key.
create index molecules_user_id_inchikey_idx on public.molecules (user_id, inchikey);
-- Rows without a key: empty once backfilled, so the writers' probe for them costs one page.
create index molecules_legacy_idx on public.molecules (user_id, inchikey) where molecule_key is null;

create trigger molecules_set_updated_at
  before update on public.molecules
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

alter table public.molecules enable row level security;
revoke all on table public.molecules from public, anon, authenticated, service_role;

-- adopt_legacy_molecules: gives a row written without a molecule key the key of a molecule the
-- request brings, when it is the same molecule: same user, same standard InChIKey and same RDKit
-- canonical SMILES (RDKit wrote both). A row whose key another row already holds is left for the
-- backfill to report. The writers (public.ingest_calculations, public.add_batch_items,
-- public.create_batch) call it before they insert by molecule_key; it costs one probe of
-- molecules_legacy_idx when no such row is left.
create function public.adopt_legacy_molecules(p_user uuid, p_molecules jsonb)
  returns void
  language sql security invoker set search_path = ''
as $$
  update public.molecules m
     set molecule_key = c.molecule_key
    from (select distinct on (x.molecule_key) x.molecule_key, x.inchikey, x.canonical_smiles
            from jsonb_to_recordset(p_molecules) as x(molecule_key text, inchikey text, canonical_smiles text)
           where x.molecule_key is not null
           order by x.molecule_key) c
   where exists (select 1 from public.molecules l where l.user_id = p_user and l.molecule_key is null)
     and m.user_id = p_user and m.molecule_key is null
     and m.inchikey = c.inchikey and m.canonical_smiles = c.canonical_smiles
     and not exists (select 1 from public.molecules k where k.user_id = p_user and k.molecule_key = c.molecule_key)
$$;

comment on function public.adopt_legacy_molecules(uuid, jsonb) is
  'Sets molecule_key on the user''s rows written without one, for the molecules given '
  '(molecule_key, inchikey, canonical_smiles) that are the same molecule. Called by the writers before they insert.';
revoke execute on function public.adopt_legacy_molecules(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.adopt_legacy_molecules(uuid, jsonb) to qf_api, service_role;

-- ---------------------------------------------------------------------------------------------
-- calculations
-- ---------------------------------------------------------------------------------------------
create table public.calculations (
  id                    uuid             not null default gen_random_uuid(),
  user_id               uuid             not null default auth.uid(),
  molecule_id           uuid             not null,
  batch_item_id         uuid,
  method                text             not null,
  task                  text             not null,
  solvent               text,
  charge                integer          not null default 0,
  multiplicity          integer          not null default 1,
  status                text             not null default 'pending',
  total_energy_eh       double precision,
  homo_lumo_gap_ev      double precision,
  dipole_debye          double precision,
  dipole_au             double precision[],
  converged             boolean,
  gradient_norm_eh_bohr double precision,
  wall_time_s           double precision,
  xtb_version           text,
  geometry_sha256       text,
  source                text,
  tags                  text[]           not null default '{}',
  metadata              jsonb            not null default '{}',
  error_message         text,
  started_at            timestamptz,
  completed_at          timestamptz,
  created_at            timestamptz      not null default now(),
  updated_at            timestamptz      not null default now(),

  constraint calculations_pkey primary key (id),
  constraint calculations_user_id_id_key unique (user_id, id),
  -- A calculation's identity: a rerun of the same job finds this row instead of adding one.
  -- Its leading (user_id, molecule_id) also serves the foreign key to molecules.
  constraint calculations_identity_key unique nulls not distinct
    (user_id, molecule_id, method, task, solvent, charge, multiplicity, geometry_sha256),
  constraint calculations_molecule_fkey foreign key (user_id, molecule_id)
    references public.molecules (user_id, id) on delete cascade,
  constraint calculations_method_valid check (method in ('GFN2-xTB', 'GFN1-xTB', 'GFN0-xTB', 'GFN-FF')),
  constraint calculations_task_valid check (task in ('sp', 'grad', 'opt')),
  constraint calculations_solvent_format check (solvent ~ '^[a-z0-9][a-z0-9_,-]{0,63}$'),
  constraint calculations_multiplicity_positive check (multiplicity >= 1),
  constraint calculations_status_valid check (status in ('pending', 'running', 'completed', 'failed')),
  constraint calculations_completed_has_energy check (status <> 'completed' or total_energy_eh is not null),
  -- In PostgreSQL NaN sorts above every number, so `x > '-infinity' and x < 'infinity'` refuses
  -- NaN, +Infinity and -Infinity at once (and lets null through).
  constraint calculations_total_energy_eh_finite
    check (total_energy_eh > '-infinity' and total_energy_eh < 'infinity'),
  constraint calculations_homo_lumo_gap_ev_nonnegative
    check (homo_lumo_gap_ev >= 0 and homo_lumo_gap_ev < 'infinity'),
  constraint calculations_dipole_debye_nonnegative
    check (dipole_debye >= 0 and dipole_debye < 'infinity'),
  constraint calculations_dipole_au_vector
    check (array_ndims(dipole_au) = 1 and cardinality(dipole_au) = 3
           and array_position(dipole_au, null) is null
           and '-infinity' < all (dipole_au) and 'infinity' > all (dipole_au)),
  constraint calculations_gradient_norm_eh_bohr_nonnegative
    check (gradient_norm_eh_bohr >= 0 and gradient_norm_eh_bohr < 'infinity'),
  constraint calculations_wall_time_s_nonnegative
    check (wall_time_s >= 0 and wall_time_s < 'infinity'),
  constraint calculations_geometry_sha256_format check (geometry_sha256 ~ '^[0-9a-f]{64}$'),
  constraint calculations_xtb_version_length check (char_length(xtb_version) <= 100),
  constraint calculations_source_length check (char_length(source) <= 1000),
  constraint calculations_tags_no_nulls check (array_position(tags, null) is null),
  constraint calculations_metadata_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.calculations is
  'One xTB run. Identity (user, molecule, method, task, solvent, charge, multiplicity, geometry_sha256) is unique.';
comment on column public.calculations.status is
  'pending: recorded, not started. running: xtb is running. completed: finished with results (total_energy_eh set). '
  'failed: xtb or its input failed (see error_message). Moves only forward: pending -> running -> completed | failed; '
  'pending -> completed | failed for results reported at once; failed -> pending when a retry is asked for.';
comment on column public.calculations.solvent is 'ALPB/GBSA solvent name; null means gas phase.';
comment on column public.calculations.dipole_au is 'Dipole vector (x, y, z) in atomic units (e·bohr).';
comment on column public.calculations.geometry_sha256 is 'SHA-256 (hex) of the canonical input geometry; part of the identity.';
comment on column public.calculations.source is 'Where the result came from, e.g. upload:<job path> or runner:<id>.';

-- Keyset pagination and sorting per user (the id breaks ties).
create index calculations_user_id_total_energy_eh_idx on public.calculations (user_id, total_energy_eh, id);
create index calculations_user_id_homo_lumo_gap_ev_idx on public.calculations (user_id, homo_lumo_gap_ev, id);
create index calculations_user_id_dipole_debye_idx on public.calculations (user_id, dipole_debye, id);
create index calculations_user_id_created_at_idx on public.calculations (user_id, created_at, id);

create function public.calculations_check_status_transition()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  -- Attached with `when (old.status is distinct from new.status)`: same -> same never gets here.
  if (old.status, new.status) not in (
    ('pending', 'running'),
    ('pending', 'completed'),
    ('pending', 'failed'),
    ('running', 'completed'),
    ('running', 'failed'),
    ('failed', 'pending')        -- a retry
  ) then
    raise exception 'calculations_status_transition: a calculation cannot go from % to %', old.status, new.status
      using errcode = 'check_violation',
            constraint = 'calculations_status_transition',
            schema = 'public',
            table = 'calculations',
            column = 'status',
            hint = 'Allowed: pending -> running | completed | failed, running -> completed | failed, failed -> pending (retry).';
  end if;
  return new;
end;
$$;

comment on function public.calculations_check_status_transition() is
  'BEFORE UPDATE row trigger: refuses a status change that moves a calculation backwards.';
revoke execute on function public.calculations_check_status_transition() from public, anon, authenticated, service_role;

create trigger calculations_status_transition
  before update of status on public.calculations
  for each row when (old.status is distinct from new.status)
  execute function public.calculations_check_status_transition();

create trigger calculations_set_updated_at
  before update on public.calculations
  for each row when (old.* is distinct from new.*)
  execute function public.set_updated_at();

-- The foreign-key checks of atomic_properties and calculations look calculations up by (user_id,
-- id): keep its statistics current while it is young (public.analyze_while_young).
create trigger calculations_analyze_while_young
  after insert on public.calculations
  for each statement
  execute function public.analyze_while_young();

alter table public.calculations enable row level security;
revoke all on table public.calculations from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- atomic_properties
-- ---------------------------------------------------------------------------------------------
create table public.atomic_properties (
  calculation_id   uuid             not null,
  atom_index       integer          not null,
  user_id          uuid             not null default auth.uid(),
  element          text             not null,
  atomic_number    smallint         not null,
  x_ang            double precision not null,
  y_ang            double precision not null,
  z_ang            double precision not null,
  partial_charge_e double precision,
  grad_x_eh_bohr   double precision,
  grad_y_eh_bohr   double precision,
  grad_z_eh_bohr   double precision,
  created_at       timestamptz      not null default now(),

  constraint atomic_properties_pkey primary key (calculation_id, atom_index),
  constraint atomic_properties_calculation_fkey foreign key (user_id, calculation_id)
    references public.calculations (user_id, id) on delete cascade,
  constraint atomic_properties_atom_index_nonnegative check (atom_index >= 0),
  constraint atomic_properties_element_format check (element ~ '^[A-Z][a-z]?$'),
  constraint atomic_properties_atomic_number_range check (atomic_number between 1 and 118),
  constraint atomic_properties_position_finite
    check (x_ang > '-infinity' and x_ang < 'infinity'
           and y_ang > '-infinity' and y_ang < 'infinity'
           and z_ang > '-infinity' and z_ang < 'infinity'),
  constraint atomic_properties_partial_charge_e_finite
    check (partial_charge_e > '-infinity' and partial_charge_e < 'infinity'),
  -- The gradient is all three components or none, and finite.
  constraint atomic_properties_gradient_complete
    check ((grad_x_eh_bohr is null) = (grad_y_eh_bohr is null)
           and (grad_y_eh_bohr is null) = (grad_z_eh_bohr is null)),
  constraint atomic_properties_gradient_finite
    check (grad_x_eh_bohr > '-infinity' and grad_x_eh_bohr < 'infinity'
           and grad_y_eh_bohr > '-infinity' and grad_y_eh_bohr < 'infinity'
           and grad_z_eh_bohr > '-infinity' and grad_z_eh_bohr < 'infinity')
);

comment on table public.atomic_properties is
  'One row per atom of a calculation (0-based atom_index): final geometry (Å), partial charge (e), gradient (Eh/bohr). '
  'Written once with its calculation and deleted with it; never updated.';

-- Row-level security filters on user_id; serves the foreign key (user_id, calculation_id).
create index atomic_properties_user_id_calculation_id_idx on public.atomic_properties (user_id, calculation_id);

alter table public.atomic_properties enable row level security;
revoke all on table public.atomic_properties from public, anon, authenticated, service_role;
