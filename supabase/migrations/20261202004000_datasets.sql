-- Datasets and their releases: frozen, versioned selections of calculations (issue 19).
--
-- Why: a live query changes as data is ingested, corrected and deleted, so a model trained on it
-- cannot be reproduced or cited. A release freezes a selection once, with its licence, authors
-- and a manifest the database computes, and stays the same bytes for as long as it is published.
--
--   datasets         a user's named collection of releases.
--   releases         one frozen selection: version 1, 2, … per dataset, description, SPDX licence,
--                    authors, DOI or citation, optional train/validation/test split (fractions and
--                    seed), status sealing | published | withdrawn (+ reason), and the manifest.
--                    `manifest` and `content_sha256` are null only while the release is `sealing`:
--                    its content hash is computed in parts, one bounded request each (a hosted
--                    function has 2 s of CPU per request; 10^5 members cost more), and the SHA-256
--                    state between parts is kept here (hashed_through, hashed_bytes,
--                    sha256_midstate; migration release_functions). A sealing release is listed
--                    nowhere and exports nothing; it is published when its last part is hashed.
--   release_members  the frozen membership: one row per calculation, `ordinal` 1..n in the
--                    canonical order (InChIKey, then calculation id), with its split. A table
--                    rather than an array so that the delete guard finds the releases holding a
--                    calculation through an index, and an export streams a range of ordinals.
--                    About 90 bytes a member plus two btree entries: 10^6 members are ~200 MB.
--                    No foreign key to calculations: the member list is the release's record and
--                    outlives a forced delete (the release is then withdrawn, never changed); the
--                    guard trigger on calculations (release_functions) is what keeps members.
--
-- Nothing here is ever updated by an API role except as trigger releases_frozen allows: the
-- progress of a sealing release, sealing it, and (through the security definer guard) withdrawing
-- one.
-- Policies are for qf_api with (select auth.uid()); anon and authenticated get nothing.

-- ---------------------------------------------------------------------------------------------
-- datasets
-- ---------------------------------------------------------------------------------------------
create table public.datasets (
  id          uuid        not null default gen_random_uuid(),
  user_id     uuid        not null default auth.uid(),
  name        text        not null,
  description text        not null default '',
  created_at  timestamptz not null default now(),

  constraint datasets_pkey primary key (id),
  constraint datasets_user_id_id_key unique (user_id, id),
  constraint datasets_user_id_name_key unique (user_id, name),
  constraint datasets_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
  constraint datasets_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  constraint datasets_description_length check (char_length(description) <= 10000)
);

comment on table public.datasets is
  'A user''s named collection of frozen releases (public.releases). Never updated; deleted only with its user.';

-- ---------------------------------------------------------------------------------------------
-- releases
-- ---------------------------------------------------------------------------------------------
create table public.releases (
  id               uuid        not null default gen_random_uuid(),
  user_id          uuid        not null default auth.uid(),
  dataset_id       uuid        not null,
  version          integer     not null,
  description      text        not null default '',
  license          text        not null,
  authors          text[]      not null,
  doi              text,
  citation         text,
  selection        jsonb       not null default '{}',
  split_seed       text,
  split_fractions  float8[],
  status           text        not null default 'sealing',
  withdrawn_reason text,
  withdrawn_at     timestamptz,
  manifest         jsonb,
  content_sha256   text,
  -- While sealing: members hashed so far (ordinals 1..hashed_through), their ndjson bytes, and the
  -- SHA-256 state after them (null before the first part). All null once published.
  hashed_through   integer     default 0,
  hashed_bytes     bigint      default 0,
  sha256_midstate  bytea,
  created_at       timestamptz not null default now(),

  constraint releases_pkey primary key (id),
  constraint releases_user_id_id_key unique (user_id, id),
  constraint releases_user_id_dataset_id_version_key unique (user_id, dataset_id, version),
  constraint releases_dataset_fkey foreign key (user_id, dataset_id)
    references public.datasets (user_id, id) on delete cascade,
  constraint releases_version_positive check (version >= 1),
  constraint releases_description_length check (char_length(description) <= 10000),
  -- An SPDX licence id or expression: MIT, CC-BY-4.0, Apache-2.0 OR MIT, LicenseRef-x.
  constraint releases_license_format
    check (license ~ '^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+-]{0,99}){0,9}$'),
  constraint releases_authors_length
    check (cardinality(authors) between 1 and 100 and array_position(authors, null) is null),
  constraint releases_doi_format check (doi ~ '^10\.[0-9]{4,9}/[^\s]{1,200}$'),
  constraint releases_citation_length check (char_length(citation) between 1 and 4000),
  constraint releases_selection_object check (jsonb_typeof(selection) = 'object'),
  -- train, validation, test: three non-negative fractions that add up to 1.
  constraint releases_split_fractions_valid
    check (cardinality(split_fractions) = 3 and 0 <= all (split_fractions)
           and abs(split_fractions[1] + split_fractions[2] + split_fractions[3] - 1) < 1e-9),
  constraint releases_split_seed_length check (char_length(split_seed) between 1 and 200),
  constraint releases_split_complete check ((split_seed is null) = (split_fractions is null)),
  -- sealing: members written, content hash in progress; not listed, not exportable, its members
  -- guarded. published: exportable, its members guarded. withdrawn: a member was deleted or
  -- changed with force; the manifest says why, and exports are refused.
  constraint releases_status_valid check (status in ('sealing', 'published', 'withdrawn')),
  constraint releases_withdrawn_has_reason
    check ((status = 'withdrawn') = (withdrawn_reason is not null and withdrawn_at is not null)),
  constraint releases_manifest_object check (jsonb_typeof(manifest) = 'object'),
  constraint releases_content_sha256_format check (content_sha256 ~ '^[0-9a-f]{64}$'),
  constraint releases_sealed_has_hash check ((manifest is null) = (content_sha256 is null)),
  constraint releases_sealing_has_no_manifest check ((status = 'sealing') = (manifest is null)),
  constraint releases_sealing_progress
    check ((status = 'sealing') = (hashed_through is not null and hashed_bytes is not null)
           and hashed_through >= 0 and hashed_bytes >= 0),
  -- The eight chaining words (32 bytes) and the bytes of the unfinished 64-byte block.
  constraint releases_sha256_midstate_length
    check (sha256_midstate is null or (status = 'sealing' and octet_length(sha256_midstate) = 32 + hashed_bytes % 64))
);

comment on table public.releases is
  'A frozen release of a dataset: members in public.release_members, manifest computed by public.create_release '
  'and sealed with its content hash by public.seal_release. Immutable once sealed (trigger releases_frozen) '
  'except for withdrawal.';
comment on column public.releases.selection is
  'What was asked for, for the record: the /query/calculations filters and the explicit ids.';
comment on column public.releases.content_sha256 is
  'SHA-256 of the canonical ndjson export of the release (all members, no split), hex.';
comment on column public.releases.sha256_midstate is
  'While sealing: the SHA-256 state after the ndjson of members 1..hashed_through (hashed_bytes bytes): '
  'eight big-endian words, then the hashed_bytes % 64 bytes of the unfinished block. Null before the first part '
  'and once published.';

-- The guard's and the listing's look-up: a dataset's releases by version.
-- (releases_user_id_dataset_id_version_key serves it.)

-- ---------------------------------------------------------------------------------------------
-- release_members
-- ---------------------------------------------------------------------------------------------
create table public.release_members (
  user_id        uuid    not null default auth.uid(),
  release_id     uuid    not null,
  ordinal        integer not null,
  calculation_id uuid    not null,
  split          text,

  constraint release_members_pkey primary key (user_id, release_id, ordinal),
  constraint release_members_release_fkey foreign key (user_id, release_id)
    references public.releases (user_id, id) on delete cascade,
  constraint release_members_ordinal_positive check (ordinal >= 1),
  constraint release_members_split_valid check (split in ('train', 'validation', 'test'))
);

comment on table public.release_members is
  'Frozen membership of a release, in canonical order (ordinal). Written once by public.create_release.';

-- The delete guard: which releases hold these calculations (one probe per deleted row).
create unique index release_members_user_id_calculation_id_release_id_key
  on public.release_members (user_id, calculation_id, release_id);

-- ---------------------------------------------------------------------------------------------
-- Immutability: a sealed release changes only by withdrawal
-- ---------------------------------------------------------------------------------------------
create function public.releases_frozen()
  returns trigger
  language plpgsql set search_path = ''
as $$
begin
  -- A part hashed: a sealing release's progress moves forward, and nothing else changes.
  if old.status = 'sealing' and new.status = 'sealing' and new.hashed_through > old.hashed_through
     and (to_jsonb(old) - 'hashed_through' - 'hashed_bytes' - 'sha256_midstate')
       = (to_jsonb(new) - 'hashed_through' - 'hashed_bytes' - 'sha256_midstate') then
    return new;
  end if;
  -- Sealing: a sealing release is published with its manifest and hash, once; its progress goes.
  if old.status = 'sealing' and new.status = 'published'
     and (new.manifest is not null and new.content_sha256 is not null)
     and new.hashed_through is null and new.hashed_bytes is null and new.sha256_midstate is null
     and (to_jsonb(old) - 'status' - 'manifest' - 'content_sha256' - 'hashed_through' - 'hashed_bytes' - 'sha256_midstate')
       = (to_jsonb(new) - 'status' - 'manifest' - 'content_sha256' - 'hashed_through' - 'hashed_bytes' - 'sha256_midstate') then
    return new;
  end if;
  -- Withdrawal: published to withdrawn, with its reason; the manifest gains the same facts.
  if old.manifest is not null and old.status = 'published' and new.status = 'withdrawn'
     and (to_jsonb(old) - 'status' - 'withdrawn_reason' - 'withdrawn_at' - 'manifest')
       = (to_jsonb(new) - 'status' - 'withdrawn_reason' - 'withdrawn_at' - 'manifest') then
    return new;
  end if;
  raise exception 'release % is frozen: only sealing a new release or withdrawing a published one may change it', old.id
    using errcode = 'QF409';
end;
$$;

comment on function public.releases_frozen() is
  'BEFORE UPDATE row trigger on releases: allows a sealing release''s progress, sealing (sealing -> published with '
  'manifest and hash) and withdrawal; nothing else.';
revoke execute on function public.releases_frozen() from public, anon, authenticated, service_role;

create trigger releases_frozen
  before update on public.releases
  for each row when (old.* is distinct from new.*)
  execute function public.releases_frozen();

-- ---------------------------------------------------------------------------------------------
-- RLS and grants: qf_api only, on its own rows
-- ---------------------------------------------------------------------------------------------
alter table public.datasets enable row level security;
alter table public.releases enable row level security;
alter table public.release_members enable row level security;

-- The platform grants every new table to the API roles: take it back first. service_role gets
-- nothing either: the service-role key acting for a user runs as qf_api, and no route works on
-- datasets across users.
revoke all on table public.datasets, public.releases, public.release_members from anon, authenticated, service_role;

grant select on table public.datasets to qf_api;
grant insert (name, description) on table public.datasets to qf_api;
grant select on table public.releases to qf_api;
grant insert (dataset_id, version, description, license, authors, doi, citation, selection, split_seed, split_fractions)
  on table public.releases to qf_api;
-- Sealing only (a part's progress, and public.seal_release); trigger releases_frozen refuses
-- anything else, and withdrawn_reason and withdrawn_at are the guard's alone.
grant update (status, manifest, content_sha256, hashed_through, hashed_bytes, sha256_midstate) on table public.releases to qf_api;
grant select, insert on table public.release_members to qf_api;

create policy datasets_select_own on public.datasets
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy datasets_insert_own on public.datasets
  for insert to qf_api
  with check (user_id = (select auth.uid()));

create policy releases_select_own on public.releases
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy releases_insert_own on public.releases
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy releases_update_own on public.releases
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy release_members_select_own on public.release_members
  for select to qf_api
  using (user_id = (select auth.uid()));
-- Members only for a release still being built, before its first part is hashed (in the
-- transaction of public.create_release): a release being sealed or sealed takes no more.
create policy release_members_insert_own on public.release_members
  for insert to qf_api
  with check (user_id = (select auth.uid())
              and exists (select 1 from public.releases r
                           where r.user_id = release_members.user_id and r.id = release_members.release_id
                             and r.status = 'sealing' and r.hashed_through = 0));

-- ---------------------------------------------------------------------------------------------
-- Events: dataset_created, release_created (when sealed), release_withdrawn
-- ---------------------------------------------------------------------------------------------
create function public.datasets_log_created()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
  select 'dataset_created', 'dataset', d.id, d.user_id, jsonb_build_object('name', d.name)
    from new_rows d;
  return null;
end;
$$;

comment on function public.datasets_log_created() is
  'AFTER INSERT statement trigger on datasets: one dataset_created event per row.';

select public.create_statement_triggers('public.datasets', 'public.datasets_log_created', '{insert}', 'datasets_log_events');

-- A release is created when it is sealed (inserted rows are still being built), and withdrawn
-- when its status becomes withdrawn.
create function public.releases_log_updated()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.event_logs (event_type, entity_type, entity_id, user_id, payload)
  select case when o.manifest is null then 'release_created' else 'release_withdrawn' end,
         'release', n.id, n.user_id,
         jsonb_strip_nulls(jsonb_build_object(
           'dataset_id', n.dataset_id,
           'version', n.version,
           'calculations', n.manifest #> '{counts,calculations}',
           'content_sha256', n.content_sha256,
           'reason', n.withdrawn_reason))
    from new_rows n
    join old_rows o on o.id = n.id
   where (o.manifest is null and n.manifest is not null)
      or (o.status = 'published' and n.status = 'withdrawn');
  return null;
end;
$$;

comment on function public.releases_log_updated() is
  'AFTER UPDATE statement trigger on releases: release_created when sealed, release_withdrawn when withdrawn.';

select public.create_statement_triggers('public.releases', 'public.releases_log_updated', '{update}', 'releases_log_events');
