-- Specifications: the settings that change a calculation's numbers, part of its identity.
--
-- Why: a calculation was identified by (user, molecule, method, task, solvent, charge,
-- multiplicity, geometry hash). A batch's xtb_args (--etemp, --acc, --iterations, --cycles) were not
-- part of it, so batch B2 run with `--etemp 5000` on the geometry B1 ran with the defaults
-- completed as a `duplicate` of B1's result and B2's numbers were thrown away; the solvation model
-- (ALPB or GBSA) was not recorded at all.
--
--   public.xtb_specification(method, task, solvent, args)
--       THE rule (the only implementation) that turns a run's settings into its specification:
--       the words of an xtb command line (a batch's xtb_args, a runner's argv, an uploaded job's
--       program call) read flag by flag, defaults filled in, so that `--acc 1.0` and no --acc are one
--       specification. Which flags change results, and how each was measured with xtb 6.5.1, is
--       the table in docs/specifications.md; the branches below follow it row by row.
--   public.specification_hash(spec)
--       SHA-256 (hex) of the specification's jsonb text. PostgreSQL writes jsonb canonically (keys
--       sorted by length then bytes, `": "` and `", "` separators), so equal specifications have
--       equal text and the hash is reproducible outside the database.
--   public.specifications
--       one row per distinct specification per user (as QCFractal stores specifications), with
--       the hash unique per user. Rows are never updated; they go with their user.
--   calculations.specification_id
--       part of calculations_identity_key instead of method, task and solvent (which the
--       specification contains): (user, molecule, specification, charge, multiplicity, geometry).
--       Every row has one: existing rows get the specification of what they were run with (their
--       program call, else their batch's xtb_args, else the defaults), and a row inserted without
--       one (SQL by hand, the benchmark's baseline) gets the defaults from the trigger
--       calculations_default_specification.
--
-- xtb_version is not part of the identity (docs/specifications.md says why); it stays a column,
-- stored and filterable.

-- ---------------------------------------------------------------------------------------------
-- The rule
-- ---------------------------------------------------------------------------------------------
create function public.xtb_specification(p_method text, p_task text, p_solvent text, p_args text[])
  returns jsonb
  language plpgsql immutable parallel safe set search_path = ''
as $$
declare
  v_args   text[] := coalesce(p_args, '{}');
  v_n      integer := coalesce(cardinality(p_args), 0);
  v_i      integer := 1;
  v_word   text;
  v_next   text;
  v_model  text;
  v_state  text;
  v_acc    float8 := 1;        -- xtb's default accuracy
  v_etemp  float8 := 300;      -- K, xtb's default electronic temperature
  v_iter   float8 := 250;      -- xtb's default SCC iteration limit
  v_cycles float8;             -- null: xtb chooses the optimisation cycle limit from the molecule
  v_level  text := 'normal';   -- xtb's default optimisation level
  v_other  text[] := '{}';
  v_real   constant text := '^[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$';
  v_int    constant text := '^[+]?[0-9]{1,9}$';
begin
  while v_i <= v_n loop
    v_word := v_args[v_i];
    v_next := v_args[v_i + 1];
    if v_word in ('--gfn', '-c', '--chrg', '-u', '--uhf', '-P', '--parallel', '--namespace') then
      -- Method, charge and multiplicity are the calculation's own columns (the API refuses args
      -- that contradict them); threads and file names do not change numbers. Skip the value too.
      v_i := v_i + 1;
    elsif v_word in ('--gfnff', '--gff', '--sp', '--scc', '--grad', '--json', '-v', '--verbose', '-s', '--silent',
                     '--ceasefiles', '--strict', '--copy', '--nocopy', '--restart', '--norestart',
                     '--pop', '--molden', '--dipole', '--wbo', '--lmo') then
      null;  -- the method or task (columns), or output and logging only: measured, no number changes
    elsif v_word in ('-o', '--opt') then
      -- The task is the column; the optional level is part of the specification. xtb reads the
      -- level names exactly (`Tight` is ignored, as here) and treats verytight as vtight.
      if v_next in ('crude', 'sloppy', 'loose', 'lax', 'normal', 'tight', 'vtight', 'verytight', 'extreme') then
        v_level := case v_next when 'verytight' then 'vtight' else v_next end;
        v_i := v_i + 1;
      end if;
    elsif v_word in ('--alpb', '-g', '--gbsa', '--cosmo', '--cpcmx') then
      -- The solvent name is the column; the model and the reference state of Gsolv are read here.
      -- xtb reads the state names exactly: `bar1M`, `reference`, `gsolv` (the default).
      v_model := case v_word when '-g' then 'gbsa' else substr(v_word, 3) end;
      v_state := null;
      if v_next is not null then
        v_i := v_i + 1;
        if v_args[v_i + 1] in ('reference', 'bar1M', 'gsolv') then
          v_state := v_args[v_i + 1];
          v_i := v_i + 1;
        end if;
      end if;
    elsif v_word in ('-a', '--acc') and v_next ~ v_real then
      v_acc := v_next::float8;
      v_i := v_i + 1;
    elsif v_word = '--etemp' and v_next ~ v_real then
      v_etemp := v_next::float8;
      v_i := v_i + 1;
    elsif v_word = '--iterations' and v_next ~ v_int then
      v_iter := v_next::float8;
      v_i := v_i + 1;
    elsif v_word = '--cycles' and v_next ~ v_int then
      v_cycles := v_next::float8;
      v_i := v_i + 1;
    elsif v_word like '-%' then
      -- Any other flag may change results: kept verbatim, with the word after it when that is
      -- not a flag (its value, or a file name: either way two runs differ only if it differs).
      v_other := v_other || v_word;
      if v_next is not null and v_next not like '-%' then
        v_other := v_other || v_next;
        v_i := v_i + 1;
      end if;
    end if;
    -- Anything else is a positional word: the program or the input file, whose content is the
    -- calculation's geometry.
    v_i := v_i + 1;
  end loop;

  return jsonb_build_object(
    'program', 'xtb',
    'method', p_method,
    'task', p_task,
    'solvation', case when p_solvent is not null then jsonb_build_object(
                   'model', coalesce(v_model, 'alpb'),
                   'solvent', lower(p_solvent),
                   'reference_state', coalesce(v_state, 'gsolv')) end,
    -- GFN-FF has no electrons to converge: accuracy, electronic temperature and the SCC limit
    -- change nothing there (measured), so they are not part of its specifications.
    'accuracy', case when p_method <> 'GFN-FF' then to_jsonb(v_acc) end,
    'electronic_temperature_k', case when p_method <> 'GFN-FF' then to_jsonb(v_etemp) end,
    'max_scc_iterations', case when p_method <> 'GFN-FF' then to_jsonb(v_iter) end,
    -- Only an optimisation has a level and a cycle limit (--cycles changes nothing else: measured).
    'opt_level', case when p_task = 'opt' then v_level end,
    'max_opt_cycles', case when p_task = 'opt' then to_jsonb(v_cycles) end,
    'other_args', to_jsonb(v_other));
end;
$$;

comment on function public.xtb_specification(text, text, text, text[]) is
  'The specification of an xtb run: method, task and solvent (the calculation''s columns) and the settings read from '
  'the words of its command line, with xtb''s defaults filled in (docs/specifications.md). Pure.';

create function public.specification_hash(p_spec jsonb)
  returns text
  language sql immutable strict parallel safe set search_path = ''
as $$
  -- convert_to is stable only because of the encoding name; 'UTF8' is fixed here.
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_spec::text, 'UTF8')), 'hex')
$$;

comment on function public.specification_hash(jsonb) is
  'SHA-256 (hex) of a specification''s jsonb text (PostgreSQL''s canonical form).';

-- The words an existing row was run with: its program call (as xtb printed it, uploader and
-- runner alike), else the xtb_args the runner recorded, else none (the defaults). Used by the
-- backfill below only.
create function public.calculation_recorded_args(p_metadata jsonb)
  returns text[]
  language sql immutable parallel safe set search_path = ''
as $$
  select case
    when jsonb_typeof(p_metadata -> 'program_call') = 'string'
      then pg_catalog.regexp_split_to_array(pg_catalog.btrim(p_metadata ->> 'program_call'), '\s+')
    when jsonb_typeof(p_metadata -> 'xtb_args') = 'array'
      then array(select pg_catalog.jsonb_array_elements_text(p_metadata -> 'xtb_args'))
    else '{}'::text[]
  end
$$;

comment on function public.calculation_recorded_args(jsonb) is
  'The xtb words a stored calculation records in its metadata (program_call, else xtb_args).';

-- ---------------------------------------------------------------------------------------------
-- specifications
-- ---------------------------------------------------------------------------------------------
create table public.specifications (
  id         uuid        not null default gen_random_uuid(),
  user_id    uuid        not null default auth.uid(),
  spec       jsonb       not null,
  spec_hash  text        not null generated always as (public.specification_hash(spec)) stored,
  created_at timestamptz not null default now(),

  constraint specifications_pkey primary key (id),
  constraint specifications_user_id_id_key unique (user_id, id),
  -- One row per distinct specification per user; also the look-up of `spec=<hash>`.
  constraint specifications_user_id_spec_hash_key unique (user_id, spec_hash),
  constraint specifications_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
  constraint specifications_spec_shape
    check (jsonb_typeof(spec) = 'object' and spec ->> 'program' is not null
           and spec ->> 'method' is not null and spec ->> 'task' is not null),
  constraint specifications_spec_size check (pg_column_size(spec) <= 8192)
);

comment on table public.specifications is
  'One row per distinct calculation specification per user (program, method, task, solvation, accuracy, electronic '
  'temperature, limits, other flags); written by ingest, never updated. See docs/specifications.md.';
comment on column public.specifications.spec is 'The normalised specification (public.xtb_specification).';
comment on column public.specifications.spec_hash is 'SHA-256 of spec''s jsonb text; the `spec=` filter.';

alter table public.specifications enable row level security;
revoke all on table public.specifications from public, anon, authenticated, service_role;

grant select on table public.specifications to qf_api, service_role;
grant insert (user_id, spec) on table public.specifications to qf_api, service_role;

create policy specifications_select_own on public.specifications
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy specifications_insert_own on public.specifications
  for insert to qf_api
  with check (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------
-- calculations.specification_id, filled for every existing row
-- ---------------------------------------------------------------------------------------------
alter table public.calculations add column specification_id uuid;

comment on column public.calculations.specification_id is
  'The specification the calculation was run with; part of its identity (calculations_identity_key).';

insert into public.specifications (user_id, spec)
select distinct c.user_id, public.xtb_specification(c.method, c.task, c.solvent, public.calculation_recorded_args(c.metadata))
  from public.calculations c
on conflict (user_id, spec_hash) do nothing;

-- The backfill changes nothing the calculations triggers keep (status, method, counts, events) and
-- must not stamp updated_at on every row, so the user triggers are off while it runs.
alter table public.calculations disable trigger user;

update public.calculations c
   set specification_id = s.id
  from public.specifications s
 where s.user_id = c.user_id
   and s.spec_hash = public.specification_hash(
         public.xtb_specification(c.method, c.task, c.solvent, public.calculation_recorded_args(c.metadata)));

alter table public.calculations enable trigger user;

alter table public.calculations
  alter column specification_id set not null,
  add constraint calculations_specification_fkey foreign key (user_id, specification_id)
    references public.specifications (user_id, id),
  drop constraint calculations_identity_key,
  -- The identity: method, task and solvent are inside the specification.
  add constraint calculations_identity_key unique nulls not distinct
    (user_id, molecule_id, specification_id, charge, multiplicity, geometry_sha256);

comment on table public.calculations is
  'One xTB run. Identity (user, molecule, specification, charge, multiplicity, geometry_sha256) is unique.';

-- Foreign key (user_id, specification_id) and the `spec=` filter.
create index calculations_user_id_specification_id_idx on public.calculations (user_id, specification_id);

-- ---------------------------------------------------------------------------------------------
-- A row inserted without a specification gets the defaults for its method, task and solvent
-- ---------------------------------------------------------------------------------------------
create function public.calculations_default_specification()
  returns trigger
  language plpgsql set search_path = ''
as $$
declare
  v_spec jsonb := public.xtb_specification(new.method, new.task, new.solvent, '{}');
begin
  insert into public.specifications (user_id, spec) values (new.user_id, v_spec)
  on conflict (user_id, spec_hash) do nothing;
  select s.id into new.specification_id
    from public.specifications s
   where s.user_id = new.user_id and s.spec_hash = public.specification_hash(v_spec);
  return new;
end;
$$;

comment on function public.calculations_default_specification() is
  'BEFORE INSERT row trigger (only when specification_id is null): the default specification of the row''s method, '
  'task and solvent. Ingest always sets specification_id, so it never gets here.';
revoke execute on function public.calculations_default_specification() from public, anon, authenticated, service_role;

create trigger calculations_default_specification
  before insert on public.calculations
  for each row when (new.specification_id is null)
  execute function public.calculations_default_specification();

revoke execute on function public.xtb_specification(text, text, text, text[]),
  public.specification_hash(jsonb), public.calculation_recorded_args(jsonb) from public, anon, authenticated;
grant execute on function public.xtb_specification(text, text, text, text[]),
  public.specification_hash(jsonb), public.calculation_recorded_args(jsonb) to qf_api, service_role;
