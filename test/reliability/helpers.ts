// Shared by the reliability suites: a user's fixture (a calculation, a batch with one claimed item),
// and the functions process' memory.
import { readdir, readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { ClaimedItem } from '../../shared/contract/batches.ts';
import { call } from '../support/http.ts';
import { rawOutput } from '../../shared/xtb/provenance.ts';
import { calc, GEOMETRIES, shifted } from '../support/payloads.ts';
import type { TestUser } from '../support/users.ts';

export interface Fixture {
  moleculeId: string;
  calculationId: string;
  batchId: string;
  held: ClaimedItem;
  runnerId: string;
}

let seq = 0;
const nextSeed = () => 500_000 + Math.floor(Math.random() * 1e6) * 10 + (seq++ % 10);

export async function fixture(user: TestUser): Promise<Fixture> {
  const seed = nextSeed();
  // With provenance and a kept xtb.out, so every table and GET .../xtb.out have something of the user's.
  const provenance = { command: 'xtb input.xyz --gfn 2 --json', files: [], raw_output: rawOutput(Buffer.from(`fixture ${seed}\nnormal termination of xtb\n`)) };
  const ing = await call('ingest', { token: user.token, body: { calculations: [calc({ smiles: 'CCO', seed, extra: { provenance } })] } });
  expect(ing.status, JSON.stringify(ing.body)).toBe(200);
  const items = [0, 1].map((k) => ({ smiles: 'C', geometry: shifted(GEOMETRIES.C, seed * 1e-3 + k * 1e-4) }));
  const created = await call('batches', { token: user.token, body: { name: `fixture ${seed}`, items } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const batchId = created.body.batch.id;
  const runnerId = `runner-${user.id}`;
  const claimed = await call('batches/claim', { token: user.token, body: { runner_id: runnerId, batch_id: batchId, limit: 1 } });
  expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
  return {
    moleculeId: ing.body.results[0].molecule_id,
    calculationId: ing.body.results[0].calculation_id,
    batchId,
    held: claimed.body.items[0],
    runnerId,
  };
}

/** Resident set size in kB of a process, from /proc. */
export async function rssKb(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the Deno process serving `url` (the shared stack's: it was started with FUNCTIONS_PORT). */
export async function functionsPidFor(url: string): Promise<number | undefined> {
  const port = new URL(url).port;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(`FUNCTIONS_PORT=${port}`)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (/deno/.test(cmdline) && /functions-router/.test(cmdline)) return Number(entry);
    } catch {
      // gone, or not ours
    }
  }
  return undefined;
}
