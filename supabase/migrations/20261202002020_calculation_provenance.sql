-- Provenance: how each calculation was made, so that anyone can re-run it exactly.
--
-- Why: only xtb_version, source and metadata.xtb_args were kept. Not the command line, not the
-- files nor their hashes, not the parser that read them, and for uploaded jobs not even the
-- settings metadata.json records: nobody could re-run a stored result.
--
--   public.calculation_provenance  one row per calculation that reported provenance (runner and
--                                  uploader alike), written with it by ingest and replaced when a
--                                  later result supersedes the row (running -> completed, failed ->
--                                  completed); deleted with its calculation. Kept apart from
--                                  calculations so that the list and sort queries stay narrow:
--                                  input files and compressed outputs are kilobytes.
--     command            the exact xtb command line, as run (runner) or as xtb printed it (uploader)
--     xtb_version        xtb's full version line, e.g. `xtb version 6.5.1 (unknown) compiled by ...`
--                        (calculations.xtb_version keeps the short `6.5.1`, the filter)
--     parser_version     the version of shared/xtb that read the files
--     files              [{"name", "role": "input"|"output", "sha256", "bytes"}], every regular file of
--                        the run directory, by name
--     input_xyz          the input geometry file exactly as xtb read it (re-run it with `command`)
--     raw_output_gzip    xtb.out, gzip-compressed, only when the runner or uploader was asked to keep
--                        it (--keep-raw-output); raw_output_sha256 is the SHA-256 of the uncompressed
--                        file, checked by the ingest function before it is stored

create table public.calculation_provenance (
  calculation_id    uuid        not null,
  user_id           uuid        not null default auth.uid(),
  command           text,
  xtb_version       text,
  parser_version    text,
  files             jsonb       not null default '[]',
  input_xyz         text,
  raw_output_gzip   bytea,
  raw_output_sha256 text,
  raw_output_bytes  bigint,
  created_at        timestamptz not null default now(),

  -- Keyed with the owner, as the foreign key is: a row can only be another user's calculation's
  -- if that user wrote it, and nobody learns from a key clash that such a calculation exists.
  constraint calculation_provenance_pkey primary key (user_id, calculation_id),
  constraint calculation_provenance_calculation_fkey foreign key (user_id, calculation_id)
    references public.calculations (user_id, id) on delete cascade,
  constraint calculation_provenance_command_length check (char_length(command) <= 4000),
  constraint calculation_provenance_xtb_version_length check (char_length(xtb_version) <= 500),
  constraint calculation_provenance_parser_version_length check (char_length(parser_version) <= 100),
  constraint calculation_provenance_files_array check (jsonb_typeof(files) = 'array'),
  constraint calculation_provenance_input_xyz_length check (octet_length(input_xyz) <= 4194304),
  -- Raw output is all three or none.
  constraint calculation_provenance_raw_output_complete
    check ((raw_output_gzip is null) = (raw_output_sha256 is null)
           and (raw_output_gzip is null) = (raw_output_bytes is null)),
  constraint calculation_provenance_raw_output_sha256_format check (raw_output_sha256 ~ '^[0-9a-f]{64}$'),
  constraint calculation_provenance_raw_output_bytes_nonnegative check (raw_output_bytes >= 0)
);

comment on table public.calculation_provenance is
  'How a calculation was made: exact xtb command line, xtb version line, parser version, SHA-256 of every file of the '
  'run, the input file, and optionally xtb.out (gzip). Written with the calculation by ingest; deleted with it. '
  'The primary key (user_id, calculation_id) also serves row-level security and the foreign key.';
comment on column public.calculation_provenance.files is
  'Every regular file of the run directory: [{"name", "role": "input"|"output", "sha256", "bytes"}], by name.';
comment on column public.calculation_provenance.raw_output_sha256 is 'SHA-256 (hex) of the uncompressed xtb.out.';
comment on column public.calculation_provenance.raw_output_bytes is 'Size of the uncompressed xtb.out.';

alter table public.calculation_provenance enable row level security;
revoke all on table public.calculation_provenance from public, anon, authenticated, service_role;

grant select, insert, update, delete on table public.calculation_provenance to qf_api, service_role;

create policy calculation_provenance_select_own on public.calculation_provenance
  for select to qf_api
  using (user_id = (select auth.uid()));
create policy calculation_provenance_insert_own on public.calculation_provenance
  for insert to qf_api
  with check (user_id = (select auth.uid()));
create policy calculation_provenance_update_own on public.calculation_provenance
  for update to qf_api
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy calculation_provenance_delete_own on public.calculation_provenance
  for delete to qf_api
  using (user_id = (select auth.uid()));
