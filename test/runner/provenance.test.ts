// The runner with the real xtb on a batch run with `--etemp 5000`, and --keep-raw-output: the
// result carries the batch's xtb_args (its specification says 5000 K), the energy is that of a
// direct `--etemp 5000` run, and the provenance holds the exact command line, xtb's version line,
// the parser's version, the SHA-256 of every file of the run directory and the kept xtb.out.
import { createHash } from 'node:crypto';
import { beforeAll, expect, inject, it } from 'vitest';
import { createBatch } from '../../shared/client-batches.ts';
import type { CalculationDetail } from '../../shared/contract/query.ts';
import { PARSER_VERSION } from '../../shared/xtb/index.ts';
import { clientFor } from '../support/client.ts';
import { adminSql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { GEOMETRIES } from '../support/payloads.ts';
import type { ChildRun } from '../support/child.ts';
import { newUser, userEnv, type TestUser } from '../support/users.ts';
import { describeWithXtb, directXtb, runRunner } from './helpers.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describeWithXtb('the runner\'s results carry their batch\'s xtb_args and their provenance', () => {
  let user: TestUser;
  let run: ChildRun;
  let detail: CalculationDetail;

  beforeAll(async () => {
    user = await newUser();
    const { batch } = await createBatch(clientFor(user.token), {
      name: 'runner provenance', xtb_args: ['--etemp', '5000'], items: [{ smiles: 'O', name: 'water', geometry: GEOMETRIES.O }],
    });
    run = await runRunner(['--once', '--concurrency', '1', '--runner-id', 'prov-runner', '--keep-raw-output'], userEnv(user.token));
    const [item] = await adminSql()`select calculation_id from public.batch_items where batch_job_id = ${batch.id}`;
    detail = (await call(`query/calculations/${item.calculation_id}`, { token: user.token })).body;
  }, 240_000);

  it('stores the result under the batch\'s specification, with the energy of a direct --etemp 5000 run', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(detail.specification).toMatchObject({ electronic_temperature_k: 5000, accuracy: 1, method: 'GFN2-xTB', task: 'sp' });
    const direct = directXtb(GEOMETRIES.O, ['--gfn', '2', '--chrg', '0', '--uhf', '0', '--etemp', '5000']);
    expect(Math.abs(detail.total_energy_eh! - direct.energyEh)).toBeLessThan(1e-6);
    const defaults = directXtb(GEOMETRIES.O, ['--gfn', '2']);
    expect(Math.abs(direct.energyEh - defaults.energyEh)).toBeGreaterThan(1e-9);
  });

  it('records the exact command line, xtb\'s version line, the parser version and every file of the run directory', () => {
    const p = detail.provenance!;
    expect(p.command).toBe('xtb input.xyz --gfn 2 --chrg 0 --uhf 0 --json --etemp 5000');
    expect(p.xtb_version).toMatch(/^xtb version 6\.5\.1 /);
    expect(p.parser_version).toBe(PARSER_VERSION);
    const names = p.files.map((f) => f.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['input.xyz', 'xtb.out', 'xtbout.json', 'charges']));
    expect(p.files.find((f) => f.name === 'input.xyz')).toMatchObject({ role: 'input', sha256: sha256(Buffer.from(p.input_xyz!, 'utf8')) });
    expect(p.files.find((f) => f.name === 'xtb.out')).toMatchObject({ role: 'output', sha256: p.raw_output_sha256 });
  });

  it('keeps xtb.out: GET /calculations/:id/xtb.out returns the file whose SHA-256 was recorded', async () => {
    const res = await fetch(`${inject('stack').url}/functions/v1/query/calculations/${detail.id}/xtb.out`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(200);
    const text = new Uint8Array(await res.arrayBuffer());
    expect(sha256(text)).toBe(detail.provenance!.raw_output_sha256);
    expect(text.byteLength).toBe(detail.provenance!.raw_output_bytes);
    expect(new TextDecoder().decode(text)).toMatch(/program call\s*:\s*xtb input\.xyz --gfn 2 --chrg 0 --uhf 0 --json --etemp 5000/);
  });
});
