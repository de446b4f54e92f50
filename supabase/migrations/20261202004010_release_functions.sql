-- Making a release, and keeping it: create_release, seal_release, release_split,
-- release_atom_counts, and the guard that stops a held calculation from being deleted or changed
-- (issue 19).
--
-- A release is made by the datasets function (supabase/functions/datasets/create-release.ts and
-- seal-release.ts), in one transaction per part:
--   1. public.create_release(dataset, facts, ids)  inserts the release (next version of the
--      dataset, status sealing) and its members: the completed calculations among `ids`, ordered
--      by InChIKey and then id (the canonical order), each with its split. The caller computes
--      `ids` inside the same statement from any /query/calculations filter, so they never leave
--      the database.
--   2. the function streams the canonical ndjson export of the members and hashes it (SHA-256 of
--      the bytes a client downloads; PostgreSQL has no incremental hash, and one bytea of a large
--      release would pass its 1 GB limit), at most RELEASE_PART_ROWS members per request: a
--      hosted function has 2 s of CPU per request. Between parts the SHA-256 state is kept in the
--      release row (hashed_through, hashed_bytes, sha256_midstate), under its row lock.
--   3. public.seal_release(release, sha256, bytes)  after the last part, computes the manifest
--      from the members (with the reference atom energies of …4005_reference_energies) and
--      publishes the release. Until then it has no manifest, so no reader lists or exports it,
--      and members can only be added before its first part is hashed.
--
-- Splits are by molecule: a member's split is a function of the seed and its InChIKey alone
-- (release_split), so no InChIKey is in two splits and the same seed gives the same split on any
-- database.
--
-- The guard (calculations_guard_releases): a calculation held by a published or sealing release
-- may not be deleted or changed (a sealing release's hash would otherwise mix old and new rows). Every path (DELETE /ingest/calculations/:id, POST /ingest/delete, a molecule
-- delete cascading to its calculations, a re-pointed same-structure mark, a PATCH) reaches the
-- table, so the one trigger covers them all. It raises SQLSTATE QF409, naming the releases (the
-- functions answer 409). With `qf.release_withdraw_reason` set in the transaction (the `force`
-- of the delete routes) it withdraws those releases with that reason instead (and drops a sealing
-- one, which nobody has seen: its members are the only record, and they would no longer export),
-- and lets the change happen. Re-ingesting never changes a member: members are completed, and ingest only moves
-- pending, running and failed rows forward.

-- ---------------------------------------------------------------------------------------------
-- release_split
-- ---------------------------------------------------------------------------------------------
create function public.release_split(p_seed text, p_fractions float8[], p_inchikey text)
  returns text
  language sql immutable strict parallel safe set search_path = ''
as $$
  -- The first 52 bits of SHA-256(seed ':' InChIKey) as a fraction in [0, 1): exact in a double.
  select case
           when u < p_fractions[1] then 'train'
           when u < p_fractions[1] + p_fractions[2] then 'validation'
           else 'test'
         end
    from (select ('x' || left(encode(pg_catalog.sha256(convert_to(p_seed || ':' || p_inchikey, 'UTF8')), 'hex'), 13))::bit(52)::bigint
                 / 4503599627370496.0::float8 as u) h
$$;

comment on function public.release_split(text, float8[], text) is
  'The split (train, validation, test) of a molecule: the first 52 bits of SHA-256(seed || '':'' || InChIKey) '
  'as a fraction in [0, 1), against the cumulative fractions. Deterministic and per molecule.';

-- ---------------------------------------------------------------------------------------------
-- create_release
-- ---------------------------------------------------------------------------------------------
-- p_release: {description, license, authors, doi, citation, selection, split: {seed, fractions}}.
create function public.create_release(p_dataset_id uuid, p_release jsonb, p_calculation_ids uuid[])
  returns public.releases
  language plpgsql set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_release public.releases;
begin
  -- One release at a time per dataset, so versions are 1, 2, … without gaps or clashes.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('release:' || p_dataset_id::text, 0));

  insert into public.releases (dataset_id, version, description, license, authors, doi, citation, selection,
                               split_seed, split_fractions)
  values (
    p_dataset_id,
    coalesce((select max(r.version) from public.releases r where r.user_id = v_user and r.dataset_id = p_dataset_id), 0) + 1,
    coalesce(p_release ->> 'description', ''),
    p_release ->> 'license',
    array(select jsonb_array_elements_text(p_release -> 'authors')),
    p_release ->> 'doi',
    p_release ->> 'citation',
    coalesce(p_release -> 'selection', '{}'),
    p_release #>> '{split,seed}',
    case when p_release ? 'split'
         then array(select jsonb_array_elements_text(p_release #> '{split,fractions}')::float8)
    end)
  returning * into v_release;

  insert into public.release_members (release_id, ordinal, calculation_id, split)
  select v_release.id,
         row_number() over (order by m.inchikey collate "C", c.id),
         c.id,
         public.release_split(v_release.split_seed, v_release.split_fractions, m.inchikey)
    from (select distinct s.id from unnest(p_calculation_ids) as s(id)) s
    join public.calculations c on c.id = s.id and c.user_id = v_user
    join public.molecules m on m.user_id = c.user_id and m.id = c.molecule_id
   where c.status = 'completed';

  return v_release;
end;
$$;

comment on function public.create_release(uuid, jsonb, uuid[]) is
  'Inserts the next release of a dataset with the completed calculations among the ids as its members '
  'in canonical order (InChIKey, id) and their splits, status sealing. public.seal_release publishes it after the last part.';

-- ---------------------------------------------------------------------------------------------
-- release_atom_counts: atoms per (specification, element)
-- ---------------------------------------------------------------------------------------------
-- One pass over the members' atoms. seal_release takes the manifest's elements and the pairs
-- whose reference atom energies it lists from it; the datasets function checks those energies
-- with it before hashing when the caller requires them (reference_energies: true), so a refusal
-- costs no hashing.
create function public.release_atom_counts(p_release_id uuid)
  returns table (specification_id uuid, element text, atoms bigint)
  language sql stable set search_path = ''
as $$
  select c.specification_id, p.element, count(*)
    from public.release_members rm
    join public.calculations c on c.user_id = rm.user_id and c.id = rm.calculation_id
    join public.atomic_properties p on p.calculation_id = rm.calculation_id
   where rm.user_id = (select auth.uid()) and rm.release_id = p_release_id
   group by c.specification_id, p.element
$$;

comment on function public.release_atom_counts(uuid) is
  'Atoms per (specification, element) over the members of one of the caller''s releases.';

-- ---------------------------------------------------------------------------------------------
-- seal_release: the manifest
-- ---------------------------------------------------------------------------------------------
create function public.seal_release(p_release_id uuid, p_content_sha256 text, p_content_bytes bigint)
  returns public.releases
  language plpgsql set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_release public.releases;
  v_dataset public.datasets;
  v_manifest jsonb;
  v_pair_specs uuid[];
  v_pair_elements text[];
  v_elements jsonb;
begin
  select * into v_release from public.releases r where r.user_id = v_user and r.id = p_release_id;
  select * into v_dataset from public.datasets d where d.user_id = v_user and d.id = v_release.dataset_id;

  -- Atoms per (specification, element), in one pass over the members' atoms: the elements of the
  -- manifest, and the pairs whose reference atom energies it lists.
  with k as (
    select a.specification_id, a.element, a.atoms as n from public.release_atom_counts(p_release_id) a
  )
  select (select array_agg(k.specification_id order by k.specification_id, k.element) from k),
         (select array_agg(k.element order by k.specification_id, k.element) from k),
         (select jsonb_object_agg(e.element, e.n order by e.element)
            from (select k.element, sum(k.n)::bigint as n from k group by k.element) e)
    into v_pair_specs, v_pair_elements, v_elements;

  with members as (
    select c.id, c.molecule_id, c.method, c.xtb_version, c.specification_id, c.total_energy_eh, c.homo_lumo_gap_ev,
           m.n_atoms, m.inchikey, rm.split
      from public.release_members rm
      join public.calculations c on c.user_id = rm.user_id and c.id = rm.calculation_id
      join public.molecules m on m.user_id = c.user_id and m.id = c.molecule_id
     where rm.user_id = v_user and rm.release_id = p_release_id
  )
  select jsonb_build_object(
           'counts', jsonb_build_object(
             'calculations', count(*),
             'molecules', count(distinct molecule_id),
             'atoms', coalesce(sum(n_atoms), 0)),
           'methods', coalesce(jsonb_agg(distinct method) filter (where method is not null), '[]'),
           'xtb_versions', coalesce(jsonb_agg(distinct xtb_version) filter (where xtb_version is not null), '[]'),
           'energy_eh', jsonb_build_object('min', min(total_energy_eh), 'max', max(total_energy_eh)),
           'homo_lumo_gap_ev', jsonb_build_object('min', min(homo_lumo_gap_ev), 'max', max(homo_lumo_gap_ev)),
           'specifications', coalesce((
             select jsonb_agg(jsonb_build_object('hash', s.spec_hash, 'spec', s.spec, 'calculations', k.n) order by s.spec_hash)
               from (select specification_id, count(*) as n from members group by specification_id) k
               join public.specifications s on s.id = k.specification_id), '[]'),
           'elements', coalesce(v_elements, '{}'),
           -- E0 as found now, copied in (…4005_reference_energies): frozen with the release.
           'reference_energies', public.reference_atom_energies(coalesce(v_pair_specs, '{}'), coalesce(v_pair_elements, '{}')),
           'splits', case when v_release.split_seed is not null then jsonb_build_object(
             'by', 'inchikey',
             'seed', v_release.split_seed,
             'fractions', jsonb_build_object('train', v_release.split_fractions[1],
                                             'validation', v_release.split_fractions[2],
                                             'test', v_release.split_fractions[3]),
             'calculations', jsonb_build_object(
               'train', count(*) filter (where split = 'train'),
               'validation', count(*) filter (where split = 'validation'),
               'test', count(*) filter (where split = 'test')),
             'molecules', jsonb_build_object(
               'train', count(distinct inchikey) filter (where split = 'train'),
               'validation', count(distinct inchikey) filter (where split = 'validation'),
               'test', count(distinct inchikey) filter (where split = 'test'))) end)
    into v_manifest
    from members;

  v_manifest := jsonb_build_object(
      'dataset', jsonb_build_object('id', v_dataset.id, 'name', v_dataset.name),
      'release_id', v_release.id,
      'version', v_release.version,
      'created_at', to_char(v_release.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'status', 'published',
      'description', v_release.description,
      'license', v_release.license,
      'authors', to_jsonb(v_release.authors),
      'doi', v_release.doi,
      'citation', v_release.citation,
      'selection', v_release.selection,
      'content', jsonb_build_object('format', 'ndjson', 'sha256', p_content_sha256, 'bytes', p_content_bytes))
    || v_manifest;

  update public.releases r
     set status = 'published', manifest = v_manifest, content_sha256 = p_content_sha256,
         hashed_through = null, hashed_bytes = null, sha256_midstate = null
   where r.user_id = v_user and r.id = p_release_id
  returning * into v_release;
  return v_release;
end;
$$;

comment on function public.seal_release(uuid, text, bigint) is
  'Computes a release''s manifest from its members (counts, elements, methods, specifications, xtb versions, energy '
  'and gap ranges, splits, date) with the content hash the caller computed, and publishes it.';

-- ---------------------------------------------------------------------------------------------
-- The guard on calculations
-- ---------------------------------------------------------------------------------------------
create function public.calculations_guard_releases()
  returns trigger
  language plpgsql security definer set search_path = ''
as $$
declare
  v_reason text := nullif(current_setting('qf.release_withdraw_reason', true), '');
  v_held jsonb;
  v_users uuid[];
  v_ids uuid[];
begin
  -- The rows deleted, or whose stored values changed (a transition table exists only for its op).
  if tg_op = 'DELETE' then
    select array_agg(o.user_id), array_agg(o.id) into v_users, v_ids from old_rows o;
  else
    select array_agg(o.user_id), array_agg(o.id) into v_users, v_ids
      from old_rows o join new_rows n on n.id = o.id
     where o is distinct from n;
  end if;
  if v_ids is null then
    return null;
  end if;

  -- The published and sealing releases that hold one of them. A user being deleted takes their
  -- releases too (the cascade may reach calculations first): skip those.
  select jsonb_agg(jsonb_build_object('release_id', r.id, 'dataset', d.name, 'version', r.version,
                                      'calculation_id', h.calculation_id, 'status', r.status)
                   order by d.name, r.version)
    into v_held
    from (select rm.user_id, rm.release_id, min(rm.calculation_id::text) as calculation_id
            from unnest(v_users, v_ids) as t(user_id, id)
            join public.release_members rm on rm.user_id = t.user_id and rm.calculation_id = t.id
           group by rm.user_id, rm.release_id) h
    join public.releases r on r.user_id = h.user_id and r.id = h.release_id
    join public.datasets d on d.user_id = r.user_id and d.id = r.dataset_id
   where r.status in ('published', 'sealing')
     and exists (select 1 from auth.users u where u.id = r.user_id);

  if v_held is null then
    return null;
  end if;

  if v_reason is null then
    raise exception 'calculation % is held by release % v% (%): releases are immutable; use force to withdraw the release',
        v_held -> 0 ->> 'calculation_id', v_held -> 0 ->> 'dataset', v_held -> 0 ->> 'version', v_held -> 0 ->> 'release_id'
      using errcode = 'QF409', detail = v_held::text;
  end if;

  -- A sealing release was never published: nobody holds its hash. It goes, members and all.
  delete from public.releases r
   where r.id in (select (e ->> 'release_id')::uuid from jsonb_array_elements(v_held) e where e ->> 'status' = 'sealing');

  update public.releases r
     set status = 'withdrawn',
         withdrawn_reason = v_reason,
         withdrawn_at = now(),
         manifest = r.manifest || jsonb_build_object(
           'status', 'withdrawn',
           'withdrawn', jsonb_build_object('reason', v_reason,
                                           'at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
   where r.id in (select (e ->> 'release_id')::uuid from jsonb_array_elements(v_held) e where e ->> 'status' = 'published');
  return null;
end;
$$;

comment on function public.calculations_guard_releases() is
  'AFTER DELETE/UPDATE statement trigger on calculations: a row held by a published or sealing release may not go '
  'or change (SQLSTATE QF409 naming the releases), unless qf.release_withdraw_reason is set, which withdraws the '
  'published ones and drops the sealing ones.';

select public.create_statement_triggers('public.calculations', 'public.calculations_guard_releases', '{delete, update}');

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------
revoke all on function public.release_split(text, float8[], text),
                       public.create_release(uuid, jsonb, uuid[]),
                       public.release_atom_counts(uuid),
                       public.seal_release(uuid, text, bigint)
  from public, anon, authenticated;
grant execute on function public.release_split(text, float8[], text),
                          public.create_release(uuid, jsonb, uuid[]),
                          public.release_atom_counts(uuid),
                          public.seal_release(uuid, text, bigint)
  to qf_api;
