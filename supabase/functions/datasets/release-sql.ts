// The SQL of datasets and releases shared by the routes: a dataset's and a release's JSON, the
// look-up of a release by dataset and version, and the members of a release in canonical order
// through the export writers of _shared/export-formats.ts (the same writers as /query/export, so a
// release and a live export of the same calculations write the same bytes per calculation).
import type { Manifest, ReleaseResponse, ReleaseSummary, Split } from '../../../shared/contract/datasets.ts';
import { iso } from '../_shared/cursor.ts';
import type { Fragment, Tx } from '../_shared/db.ts';
import { conflict, notFound } from '../_shared/errors.ts';
import type { ExportFormatSql, WriterOptions } from '../_shared/export-formats.ts';
import { HARTREE_EV } from '../../../shared/units.ts';

/** A ReleaseSummary as JSON, for `public.releases r`. */
const releaseSummary = (tx: Tx): Fragment => tx`json_build_object(
  'id', r.id, 'version', r.version, 'status', r.status, 'content_sha256', r.content_sha256,
  'calculations', (r.manifest #>> '{counts,calculations}')::bigint,
  'created_at', ${iso(tx, tx`r.created_at`)}, 'withdrawn_reason', r.withdrawn_reason)`;

/** The columns of a Dataset, for `public.datasets d` (or a CTE of its rows named d): sealed releases only. */
export const datasetColumns = (tx: Tx): Fragment => tx`
  d.id, d.name, d.description, ${iso(tx, tx`d.created_at`)} as created_at,
  coalesce((select json_agg(${releaseSummary(tx)} order by r.version)
              from public.releases r
             where r.user_id = d.user_id and r.dataset_id = d.id and r.manifest is not null), '[]') as releases`;

export interface ReleaseRow {
  summary: ReleaseSummary;
  manifest: Manifest;
  split_seed: string | null;
}

/** For `public.releases r` while sealing: its member count, the last ordinal (the manifest has it once sealed). */
export const sealingMembers = (tx: Tx): Fragment =>
  tx`(select max(rm.ordinal) from public.release_members rm where rm.user_id = r.user_id and rm.release_id = r.id)`;

/** The function path that hashes a sealing release's next part (POST). */
export const sealPath = (datasetId: string, version: number) => `datasets/${datasetId}/releases/${version}/seal`;

/**
 * A sealed release by dataset and version; a 404 when there is none, a 409 while it is sealing
 * (no manifest or content hash yet: nothing to show or export), saying how far it is.
 */
export async function findRelease(tx: Tx, datasetId: string, version: number): Promise<ReleaseRow> {
  const [row] = await tx<(ReleaseRow & { hashed_through: number | null; members: number | null })[]>`
    select case when r.manifest is not null then ${releaseSummary(tx)} end as summary, r.manifest, r.split_seed,
           r.hashed_through,
           case when r.manifest is null then ${sealingMembers(tx)} end as members
      from public.releases r
     where r.dataset_id = ${datasetId}::uuid and r.version = ${version}`;
  if (!row) throw notFound(`release ${version} of dataset ${datasetId}`);
  if (row.manifest === null) {
    throw conflict(`release ${version} is still being sealed (${row.hashed_through} of ${row.members} members hashed): ` +
      `it has no manifest and exports nothing until POST /${sealPath(datasetId, version)} has hashed the rest`,
    [{ path: 'version', issue: 'sealing' }]);
  }
  return row;
}

export const releaseResponse = (r: ReleaseRow): ReleaseResponse => ({ release: r.summary, manifest: r.manifest });

export interface MemberRange {
  releaseId: string;
  split?: Split;
  /** Members after this ordinal… */
  after?: number;
  /** …through this one. */
  through?: number;
}

const rangeClause = (tx: Tx, m: MemberRange): Fragment => tx`
  rm.release_id = ${m.releaseId}::uuid
  ${m.split ? tx`and rm.split = ${m.split}` : tx``}
  ${m.after !== undefined ? tx`and rm.ordinal > ${m.after}` : tx``}
  ${m.through !== undefined ? tx`and rm.ordinal <= ${m.through}` : tx``}`;

/** The members of a range written by `format`, in canonical order (ordinal). */
export function memberRows(tx: Tx, format: ExportFormatSql, writer: WriterOptions, m: MemberRange): Fragment {
  return tx`
    /* qf:release-export */
    select ${format.columns(tx, writer)}
      from public.release_members rm
      join public.calculations c on c.user_id = rm.user_id and c.id = rm.calculation_id
      join public.molecules m on m.user_id = c.user_id and m.id = c.molecule_id
      ${format.lateral(tx)}
     where ${rangeClause(tx, m)} and ${format.where(tx)}
     order by rm.ordinal`;
}

/** The last ordinal of the first `limit` members after `m.after`, and whether more follow. */
export async function rangeEnd(tx: Tx, m: MemberRange, limit: number): Promise<number | undefined> {
  const edge = await tx<{ ordinal: number }[]>`
    select rm.ordinal from public.release_members rm
     where ${rangeClause(tx, m)}
     order by rm.ordinal offset ${limit - 1} limit 2`;
  return edge.length === 2 ? edge[0].ordinal : undefined;
}

/** Exact float text, as every export writes it (the server default, made explicit). */
export const exactFloats = (tx: Tx) => tx`select set_config('extra_float_digits', '1', true)`;

/**
 * The manifest's reference atom energies as extxyz frames MACE takes its E0s from: one atom, with
 * `config_type=IsolatedAtom` and the energy under the energy key (ACEsuit/mace, mace/data/utils.py,
 * load_from_xyz; docs/releases.md). Written from the manifest, where the values were frozen with the
 * release, so the frames do not change if the atom's calculation is deleted later. The eV value is
 * the same double product the member frames are written with (Eh × HARTREE_EV), in shortest text.
 */
export function isolatedAtomFrames(manifest: Manifest): string {
  return manifest.reference_energies.atoms.map((a) =>
    `1\nProperties=species:S:1:pos:R:3 config_type=IsolatedAtom REF_energy=${a.energy_eh * HARTREE_EV} ` +
    `total_charge=0 total_spin=${a.multiplicity} pbc="F F F"\n${a.element} 0.0 0.0 0.0\n`).join('');
}
