// Provenance of uploaded jobs, re-run: the uploader (with --keep-raw-output) stores for each job
// the command line xtb printed, its version line, the parser's version, the SHA-256 of every file
// of the job directory and the input file. Running the stored command line with the real xtb on
// the stored input reproduces the stored energy to 1e-8 Eh, and the kept xtb.out is the file on
// disk, byte for byte (same SHA-256).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, inject, it, vi } from 'vitest';
import type { CalculationDetail } from '../../shared/contract/query.ts';
import { PARSER_VERSION, parseXtbOut } from '../../shared/xtb/index.ts';
import { call } from '../support/http.ts';
import { newUser, serviceEnv, type TestUser } from '../support/users.ts';
import { describeWithXtb } from '../runner/helpers.ts';
import { byPath, FIXTURES, readReport, runUpload, type ReportLine } from './run-upload.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Jobs re-run here: a single point, an optimisation, and an anion in ALPB water. */
const RERUN = ['2025-03/qf-20250301-00003', '2025-03/qf-20250301-00004', '2025-03/qf-20250301-00006'];

describeWithXtb('provenance of uploaded jobs', () => {
  let user: TestUser;
  let report: Record<string, ReportLine>;
  const details: Record<string, CalculationDetail> = {};

  beforeAll(async () => {
    user = await newUser();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-provenance-'));
    const file = path.join(dir, 'report.ndjson');
    const run = await runUpload(['--jobs-root', FIXTURES, '--user-id', user.id, '--report', file, '--keep-raw-output'], serviceEnv());
    expect(run.code, run.stderr).toBe(0);
    report = byPath(readReport(file));
    rmSync(dir, { recursive: true, force: true });
    for (const job of RERUN) {
      const res = await call(`query/calculations/${report[job].calculation_id}`, { token: user.token });
      expect(res.status).toBe(200);
      details[job] = res.body;
    }
  });

  it('stores the command line, the version line, the parser version and every file of the job by its hash', () => {
    for (const job of RERUN) {
      const p = details[job].provenance!;
      const jobDir = path.join(FIXTURES, job);
      const firstCall = /program call\s*:\s*(.*\S)/.exec(readFileSync(path.join(jobDir, 'xtb.out'), 'utf8'))![1];
      expect(p.command).toBe(firstCall);
      expect(p.xtb_version).toMatch(/^xtb version 6\.5\.1 /);
      expect(p.parser_version).toBe(PARSER_VERSION);
      const onDisk = readdirSync(jobDir).filter((f) => statSync(path.join(jobDir, f)).isFile()).sort();
      expect(p.files.map((f) => f.name)).toEqual(onDisk);
      for (const f of p.files) {
        const bytes = readFileSync(path.join(jobDir, f.name));
        expect(f, `${job}/${f.name}`).toEqual({
          name: f.name, role: ['input.xyz', 'metadata.json'].includes(f.name) ? 'input' : 'output', sha256: sha256(bytes), bytes: bytes.byteLength,
        });
      }
      expect(sha256(Buffer.from(p.input_xyz!, 'utf8'))).toBe(p.files.find((f) => f.name === 'input.xyz')!.sha256);
    }
  });

  it('re-running the stored command line with the real xtb on the stored input reproduces the stored energy to 1e-8 Eh', () => {
    for (const job of RERUN) {
      const d = details[job];
      const dir = mkdtempSync(path.join(os.tmpdir(), 'qf-rerun-'));
      try {
        writeFileSync(path.join(dir, 'input.xyz'), d.provenance!.input_xyz!);
        const [program, ...args] = d.provenance!.command!.split(/\s+/);
        expect(program).toBe('xtb');
        let out: string;
        try {
          out = execFileSync('xtb', args, {
            cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
            env: { ...process.env, OMP_NUM_THREADS: '1', XTBPATH: process.env.XTBPATH || '/usr/share/xtb' },
          });
        } catch (err) {
          throw new Error(`${job}: xtb ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? err}`);
        }
        const energy = parseXtbOut(out).totalEnergyEh!;
        expect(Math.abs(energy - d.total_energy_eh!), `${job}: ${energy} vs stored ${d.total_energy_eh}`).toBeLessThanOrEqual(1e-8);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('keeps xtb.out when asked: its SHA-256 is the file\'s on disk, and GET /calculations/:id/xtb.out returns the file', async () => {
    for (const job of RERUN) {
      const onDisk = readFileSync(path.join(FIXTURES, job, 'xtb.out'));
      const p = details[job].provenance!;
      expect(p.raw_output_sha256).toBe(sha256(onDisk));
      expect(p.raw_output_bytes).toBe(onDisk.byteLength);
      const res = await fetch(`${inject('stack').url}/functions/v1/query/calculations/${details[job].id}/xtb.out`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-sha256')).toBe(sha256(onDisk));
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(onDisk));
    }
  });

  it('carries the provenance in the ndjson export', async () => {
    const res = await call('query/export?format=ndjson', { token: user.token });
    const lines = String(res.body).trim().split('\n').map((l) => JSON.parse(l));
    const byId = Object.fromEntries(lines.map((l) => [l.id, l]));
    for (const job of RERUN) {
      const line = byId[report[job].calculation_id!];
      expect(line.provenance).toMatchObject({
        command: details[job].provenance!.command,
        parser_version: PARSER_VERSION,
        raw_output_sha256: details[job].provenance!.raw_output_sha256,
        input_xyz: details[job].provenance!.input_xyz,
      });
      expect(line.provenance.files).toEqual(details[job].provenance!.files);
      expect(line.specification_hash).toBe(details[job].specification_hash);
    }
  });

  it('derives each job\'s specification from its program call: the O2 job run with --iterations 1 has its own', async () => {
    const o2 = await call(`query/calculations/${report['2025-04/qf-20250401-00018'].calculation_id}`, { token: user.token });
    expect(o2.body.specification).toMatchObject({ max_scc_iterations: 1, electronic_temperature_k: 300 });
    const water = await call(`query/calculations/${report['2025-03/qf-20250301-00006'].calculation_id}`, { token: user.token });
    expect(water.body.specification.solvation).toEqual({ model: 'alpb', solvent: 'water', reference_state: 'gsolv' });
    const versions = await call('query/calculations?xtb_version=6.5.1&limit=1000', { token: user.token });
    expect(versions.body.data.length).toBeGreaterThan(10);
  });
});
