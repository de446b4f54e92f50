// The three export formats as SQL (the rows to stream) and an encoder (rows to bytes). extxyz
// and ndjson are written by PostgreSQL, one text per calculation, and passed through as raw
// bytes: the function's CPU per request stays small (the hosted limit is 2 s). csv has no atoms
// and is written here. Floats are PostgreSQL's shortest exact text (extra_float_digits = 1), so
// every value reads back as the same double.
//   extxyz  see below;
//   ndjson  one object per line, atoms as arrays (elements, positions_ang, charges_e,
//           gradient_eh_bohr), values in the stored units, with the specification (and its
//           hash), the same-structure mark and the provenance (command line, versions, file
//           hashes, input file; the kept xtb.out by its hash, fetched from /calculations/:id/xtb.out);
//   csv     one row per calculation, CSV_COLUMNS, RFC 4180 quoting; text that would start a
//           spreadsheet formula gets a leading ' (csvField).
import type postgres from 'postgres';
import { CSV_COLUMNS, type ExportFormat, type ExportProfile } from '../../../shared/contract/query.ts';
import { BOHR_ANGSTROM, HARTREE_EV, HARTREE_PER_BOHR_EV_PER_ANGSTROM } from '../../../shared/units.ts';
import { iso } from './cursor.ts';
import type { Fragment, Tx } from './db.ts';
import { badRequest } from './errors.ts';

/** The hash of the row's specification: one primary-key probe per row written, not a join of every row filtered. */
export const specificationHash = (tx: Tx): Fragment =>
  tx`(select s.spec_hash from public.specifications s where s.id = c.specification_id)`;

/**
 * How a writer names things. `refKeys`: REF_energy, REF_forces, REF_charges (extxyz). `mace`
 * (profile=mace): the REF_ keys, and the total charge and spin under the keys MACE's training
 * reads by default, `total_charge` and `total_spin` (mace/tools/default_keys.py, DefaultKeys
 * TOTAL_CHARGE and TOTAL_SPIN; total_spin is the multiplicity 2S+1, 1 for a closed shell, as
 * mace/calculators/lammps_mliap_mace.py defaults it), instead of charge= and multiplicity=.
 */
export interface WriterOptions {
  refKeys: boolean;
  mace?: boolean;
}

/**
 * The writer an export query asks for. `ref_keys` and `profile` name extxyz keys, so with another
 * format they are a 400 rather than silently ignored. (A release export has no `ref_keys`.)
 */
export function exportWriter(q: { format: ExportFormat; ref_keys?: boolean; profile?: ExportProfile }): WriterOptions {
  for (const [param, given] of [['ref_keys', q.ref_keys], ['profile', q.profile]] as const) {
    if (given && q.format !== 'extxyz') {
      throw badRequest(`invalid query parameter ${param}: only for format=extxyz`, [{ path: param, issue: 'only for format=extxyz' }]);
    }
  }
  return { refKeys: q.ref_keys ?? false, mace: q.profile === 'mace' };
}

/** Calculations in one export response: as many as asked, never more than a part (the CPU per request). */
export const partLimit = (asked: number | undefined, partRows: number): number => Math.min(asked ?? partRows, partRows);

export interface ExportFormatSql {
  /** Rows come as the raw bytes of their columns (postgres.js `.raw()`) rather than parsed values. */
  raw: boolean;
  /** Columns of one output row; `a` is the lateral atom aggregate. */
  columns: (tx: Tx, opts: WriterOptions) => Fragment;
  /** `cross join lateral (...) a`, or nothing. */
  lateral: (tx: Tx) => Fragment;
  /** Extra condition on the calculations written. */
  where: (tx: Tx) => Fragment;
  chunkRows: number;
  /** One chunk of rows (in order) to bytes or text. */
  encoder: (opts: WriterOptions) => (rows: postgres.Row[]) => Uint8Array | string;
  /** Written once before the rows. */
  header: string;
  extension: string;
}

/** Raw rows of one text column: their bytes, back to back. */
const joinBytes = (rows: postgres.Row[]): Uint8Array => {
  const parts = rows as unknown as Uint8Array[][];
  let size = 0;
  for (const r of parts) size += r[0].byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const r of parts) {
    out.set(r[0], at);
    at += r[0].byteLength;
  }
  return out;
};

// extxyz, in ASE's conventions (ase.io.read(path, index=':') reads it), one text per calculation:
//   <atom count>
//   Properties=species:S:1:pos:R:3[:forces:R:3][:charges:R:1] energy=<eV> homo_lumo_gap=<eV>
//     dipole="<x> <y> <z>" (e·Å) smiles="…" inchikey=… calc_id=… molecule_id=… method=… task=…
//     solvent=<name or gas> charge=… multiplicity=… pbc="F F F"
//   <element> <x> <y> <z> [<fx> <fy> <fz>] [<q>]        (Å, eV/Å, e; one line per atom)
// Forces are −gradient in eV/Å. The forces column is written only when every atom has a gradient,
// the charges column only when every atom has a charge; a missing value (gap, dipole, energy)
// leaves its key out. With ref_keys: REF_energy, REF_forces, REF_charges; with profile=mace also
// total_charge= and total_spin= for charge= and multiplicity= (WriterOptions). Only calculations with
// atoms are written. Conversions use the constants of shared/units.ts, passed as parameters.
const extxyz: ExportFormatSql = {
  raw: true,
  columns: (tx, { refKeys: ref, mace }) => {
    const refKeys = ref || mace === true;
    const [chargeKey, spinKey] = mace ? ['total_charge=', 'total_spin='] : ['charge=', 'multiplicity='];
    const forces = refKeys ? ':REF_forces:R:3' : ':forces:R:3';
    const charges = refKeys ? ':REF_charges:R:1' : ':charges:R:1';
    const energy = refKeys ? 'REF_energy=' : 'energy=';
    const bohr = tx`${BOHR_ANGSTROM}::float8`;
    // A string value in double quotes, with \ and " escaped as ASE's parser expects.
    const quoted = (col: Fragment) => tx`'"' || replace(replace(${col}, '\\', '\\\\'), '"', '\\"') || '"'`;
    return tx`
      a.n || E'\n' || concat_ws(' ',
        'Properties=species:S:1:pos:R:3'
          || case when a.has_grad then ${forces}::text else '' end
          || case when a.has_q then ${charges}::text else '' end,
        ${energy}::text || (c.total_energy_eh * ${HARTREE_EV}::float8)::text,
        'homo_lumo_gap=' || c.homo_lumo_gap_ev::text,
        'dipole="' || (c.dipole_au[1] * ${bohr})::text || ' ' || (c.dipole_au[2] * ${bohr})::text
          || ' ' || (c.dipole_au[3] * ${bohr})::text || '"',
        'smiles=' || ${quoted(tx`m.canonical_smiles`)},
        'inchikey=' || m.inchikey,
        'calc_id=' || c.id::text,
        'molecule_id=' || c.molecule_id::text,
        'method=' || c.method,
        'task=' || c.task,
        'solvent=' || coalesce(c.solvent, 'gas'),
        ${chargeKey}::text || c.charge::text,
        ${spinKey}::text || c.multiplicity::text,
        'pbc="F F F"'
      ) || E'\n' || a.lines || E'\n' as text`;
  },
  lateral: (tx) => {
    const k = () => tx`${HARTREE_PER_BOHR_EV_PER_ANGSTROM}::float8`;
    // concat_ws skips nulls: an atom without gradient gets no forces, one without charge no
    // charge. Ingest stores a gradient (and charges) for all atoms of a calculation or for none;
    // rows written otherwise that mix them get the frame rebuilt with only the columns every atom
    // has (the case below), so the lines always match the Properties.
    const lines = (forces: Fragment, charges: Fragment) => tx`
      string_agg(concat_ws(' ', p.element, p.x_ang, p.y_ang, p.z_ang,
                           case when ${forces} then -p.grad_x_eh_bohr * ${k()} end,
                           case when ${forces} then -p.grad_y_eh_bohr * ${k()} end,
                           case when ${forces} then -p.grad_z_eh_bohr * ${k()} end,
                           case when ${charges} then p.partial_charge_e end),
                 E'\n' order by p.atom_index)`;
    return tx`cross join lateral (
      select count(*) as n,
             bool_and(p.grad_x_eh_bohr is not null) as has_grad, bool_or(p.grad_x_eh_bohr is not null) as any_grad,
             bool_and(p.partial_charge_e is not null) as has_q, bool_or(p.partial_charge_e is not null) as any_q,
             ${lines(tx`true`, tx`true`)} as lines
        from public.atomic_properties p
       where p.calculation_id = c.id
    ) a0
    cross join lateral (
      select a0.n, a0.has_grad, a0.has_q,
             case when a0.has_grad = a0.any_grad and a0.has_q = a0.any_q then a0.lines
                  else (select ${lines(tx`a0.has_grad`, tx`a0.has_q`)} from public.atomic_properties p where p.calculation_id = c.id)
             end as lines
    ) a`;
  },
  where: (tx) => tx`exists (select 1 from public.atomic_properties p where p.calculation_id = c.id)`,
  chunkRows: 500,
  encoder: () => joinBytes,
  header: '',
  extension: 'extxyz',
};

const ndjson: ExportFormatSql = {
  raw: true,
  // row_to_json writes compact JSON with the columns in this order.
  columns: (tx) => tx`row_to_json(r)::text || E'\n' as text`,
  lateral: (tx) => tx`cross join lateral (
    select count(*) as n,
           to_json(array_agg(p.element order by p.atom_index)) as elements,
           to_json(array_agg(array[p.x_ang, p.y_ang, p.z_ang] order by p.atom_index)) as positions_ang,
           case when bool_and(p.partial_charge_e is not null)
                then to_json(array_agg(p.partial_charge_e order by p.atom_index)) end as charges_e,
           case when bool_and(p.grad_x_eh_bohr is not null)
                then to_json(array_agg(array[p.grad_x_eh_bohr, p.grad_y_eh_bohr, p.grad_z_eh_bohr] order by p.atom_index)) end
             as gradient_eh_bohr
      from public.atomic_properties p
     where p.calculation_id = c.id
  ) a
  left join public.specifications s on s.id = c.specification_id
  left join public.calculation_provenance pv on pv.calculation_id = c.id
  cross join lateral (
    select c.id, c.molecule_id, m.canonical_smiles, m.inchikey, m.formula, m.n_atoms, c.method, c.task, c.solvent,
           c.charge, c.multiplicity, c.status, c.total_energy_eh, c.homo_lumo_gap_ev, c.dipole_debye, c.dipole_au,
           c.converged, c.gradient_norm_eh_bohr, c.wall_time_s, c.xtb_version, c.batch_item_id, c.source, c.tags,
           c.metadata, c.error_message,
           ${iso(tx, tx`c.created_at`)} as created_at, ${iso(tx, tx`c.completed_at`)} as completed_at,
           s.spec_hash as specification_hash, s.spec as specification, c.same_structure_as,
           case when pv.calculation_id is not null then (select row_to_json(t) from (
             select pv.command, pv.xtb_version, pv.parser_version, pv.files, pv.input_xyz,
                    pv.raw_output_sha256, pv.raw_output_bytes) t) end as provenance,
           case when a.n > 0 then (select row_to_json(t) from (select a.elements, a.positions_ang, a.charges_e, a.gradient_eh_bohr) t) end
             as atoms
  ) r`,
  where: (tx) => tx`true`,
  chunkRows: 500,
  encoder: () => joinBytes,
  header: '',
  extension: 'ndjson',
};

// A text cell starting with one of these is run as a formula by spreadsheets (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell. Text (strings, and tags joined with `;`) that a spreadsheet would read as a formula
 * gets a leading `'`, as OWASP advises; numbers come from the database as numbers and are written
 * as they are, so -40.1 stays a number. Then RFC 4180: quote a cell holding a comma, a quote or a
 * line break.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'string' || Array.isArray(v)) {
    s = Array.isArray(v) ? v.join(';') : v;
    if (FORMULA_START.test(s)) s = `'${s}`;
  } else {
    s = String(v);
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csv: ExportFormatSql = {
  raw: false,
  columns: (tx) => tx`
    c.id, c.molecule_id, m.inchikey, m.canonical_smiles, m.formula, m.n_atoms, c.method, c.task, c.solvent,
    c.charge, c.multiplicity, c.status, c.total_energy_eh, c.homo_lumo_gap_ev, c.dipole_debye,
    c.dipole_au[1] as dipole_x_au, c.dipole_au[2] as dipole_y_au, c.dipole_au[3] as dipole_z_au,
    c.converged, c.gradient_norm_eh_bohr, c.wall_time_s, c.xtb_version, c.batch_item_id, c.source, c.tags,
    ${iso(tx, tx`c.created_at`)} as created_at, ${iso(tx, tx`c.completed_at`)} as completed_at,
    ${specificationHash(tx)} as specification_hash, c.same_structure_as`,
  lateral: (tx) => tx``,
  where: (tx) => tx`true`,
  chunkRows: 2000,
  encoder: () => (rows) => {
    let out = '';
    for (const r of rows) out += CSV_COLUMNS.map((k) => csvField(r[k])).join(',') + '\r\n';
    return out;
  },
  header: CSV_COLUMNS.join(',') + '\r\n',
  extension: 'csv',
};

export const EXPORT_FORMATS: Record<ExportFormat, ExportFormatSql> = { extxyz, ndjson, csv };
