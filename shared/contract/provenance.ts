// Provenance of one calculation, as the runner and the uploader report it with the result: what
// makes it possible to re-run it exactly. Stored in public.calculation_provenance.
import { z } from 'zod';

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex');

/** Largest xtb.out kept (uncompressed), and its compressed size in base64. */
export const RAW_OUTPUT_MAX_BYTES = 64 * 1024 * 1024;
export const RAW_OUTPUT_MAX_BASE64 = 8 * 1024 * 1024;

export const FILE_ROLES = ['input', 'output'] as const;

/** One file of the run directory: inputs are what xtb read (input.xyz; metadata.json for uploads), outputs what it wrote. */
export const FileDigest = z.object({
  name: z.string().min(1).max(255),
  role: z.enum(FILE_ROLES),
  sha256: Sha256,
  bytes: z.number().int().min(0),
});
export type FileDigest = z.infer<typeof FileDigest>;

/** xtb.out as the run wrote it, gzip-compressed and base64-encoded; `sha256` and `bytes` are the uncompressed file's. */
export const RawOutput = z.object({
  encoding: z.literal('gzip+base64'),
  sha256: Sha256,
  bytes: z.number().int().min(0).max(RAW_OUTPUT_MAX_BYTES),
  data: z.string().min(1).max(RAW_OUTPUT_MAX_BASE64).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});
export type RawOutput = z.infer<typeof RawOutput>;

export const Provenance = z.object({
  /** The exact xtb command line: as the runner ran it, or as xtb printed it (`program call`). */
  command: z.string().min(1).max(4000).nullish(),
  /** xtb's full version line, e.g. `xtb version 6.5.1 (unknown) compiled by 'builduser@buildhost' on 2022-12-09`. */
  xtb_version: z.string().max(500).nullish(),
  /** The version of the parser (shared/xtb) that read the files. */
  parser_version: z.string().max(100).nullish(),
  /** Every regular file of the run directory, by name. */
  files: z.array(FileDigest).max(500).default([]),
  /** The input geometry file exactly as xtb read it; its SHA-256 must be the one `files` gives for input.xyz. */
  input_xyz: z.string().max(4 * 1024 * 1024).nullish(),
  /** Only when the runner or uploader was asked to keep it (--keep-raw-output). */
  raw_output: RawOutput.nullish(),
});
export type Provenance = z.output<typeof Provenance>;
