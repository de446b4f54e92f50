// Every item stands alone, and no item stalls the service (issue 17): hostile items are rejected
// with a path while their neighbours are stored, the worst molecules RDKit can be given are bounded,
// and /health keeps answering while they are identified. Runs with the stack's default budgets.
import { describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { clientFor } from '../support/client.ts';
import { adminSql, asRole } from '../support/db.ts';
import { calc, calcWithAtoms, GEOMETRIES } from '../support/payloads.ts';
import { newUser } from '../support/users.ts';
import { BOHR_ANGSTROM } from '../../shared/units.ts';

const qcschemaWater = (symbols: string[]) => ({
  schema_name: 'qcschema_output',
  molecule: { symbols, geometry: GEOMETRIES.O.flatMap((a) => a.xyz.map((v) => v / BOHR_ANGSTROM)), identifiers: { smiles: 'O' } },
  driver: 'energy',
  model: { method: 'GFN2-xTB' },
  return_result: -5.07,
  properties: { return_energy: -5.07 },
  success: true,
});

describe('every item stands alone', () => {
  it('[valid, 1,200-atom molecule, symbols [""], {"k": "\\u0000"}, charge 2^31] answers 200: item 0 created, the others created or rejected with a path', async () => {
    const user = await newUser();
    const big = calcWithAtoms(`${'C'.repeat(399)}O`, { C: 399, H: 800, O: 1 });
    expect(big.geometry).toHaveLength(1200);
    const items = [
      calc({ seed: 1 }),
      big,
      qcschemaWater(['']),
      calc({ seed: 2, extra: { metadata: { k: '\u0000' } } }),
      calc({ seed: 3, extra: { charge: 2 ** 31 } }),
    ];
    const res = await call('ingest', { method: 'POST', token: user.token, body: { calculations: items } });
    expect(res.status).toBe(200);
    const results = res.body.results;
    expect(results.map((r: any) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(results[0].outcome).toBe('created');
    // The big molecule is stored unless InChI hit its wall-clock limit on a loaded machine (then it says so).
    expect(['created', 'rejected']).toContain(results[1].outcome);
    if (results[1].outcome === 'rejected') expect(results[1].errors[0]).toMatchObject({ path: 'calculations[1].molecule.smiles', issue: expect.stringMatching(/InChI did not finish/) });
    expect(results[2]).toMatchObject({ outcome: 'rejected', errors: [{ path: 'calculations[2].molecule.symbols[0]' }] });
    expect(results[3]).toMatchObject({ outcome: 'rejected', errors: [{ path: 'calculations[3].metadata.k', issue: expect.stringMatching(/NUL/) }] });
    expect(results[4]).toMatchObject({ outcome: 'rejected', errors: [{ path: 'calculations[4].charge', issue: expect.stringMatching(/32-bit/) }] });
  });

  it('refuses every other text Postgres cannot store, item by item: NUL in keys, names, tags; lone surrogates', async () => {
    const user = await newUser();
    const items = [
      calc({ seed: 10, extra: { metadata: { 'a\u0000b': 1 } } }),
      calc({ seed: 11, extra: { tags: ['ok', 'x\u0000'] } }),
      { ...calc({ seed: 12 }), molecule: { smiles: 'O', name: 'water\u0000' } },
      calc({ seed: 13, extra: { metadata: { nested: [{ deep: 'x\uD800' }] } } }),
      calc({ seed: 14, extra: { multiplicity: 2 ** 31 } }),
      calc({ seed: 15 }),
    ];
    const res = await call('ingest', { method: 'POST', token: user.token, body: { calculations: items } });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: any) => r.errors?.[0]?.path ?? r.outcome)).toEqual([
      'calculations[0].metadata.a\u0000b', 'calculations[1].tags[1]', 'calculations[2].molecule.name',
      'calculations[3].metadata.nested[0].deep', 'calculations[4].multiplicity', 'created',
    ]);
  });
});

describe('a pathological molecule stalls nothing', () => {
  it("refuses the issue's 20 × 'C(F)(F)'.repeat(280) before RDKit, with matching geometries", async () => {
    const user = await newUser();
    const items = Array.from({ length: 20 }, (_, i) => calcWithAtoms('C(F)(F)'.repeat(280), { C: 280, F: 560, H: 2 }, i));
    const res = await call('ingest', { method: 'POST', token: user.token, body: { calculations: items } });
    expect(res.status).toBe(200);
    expect(res.body.counts.rejected).toBe(20);
    for (const r of res.body.results) {
      expect(r.errors[0]).toMatchObject({ path: expect.stringMatching(/molecule\.smiles$/), issue: expect.stringMatching(/840 heavy atoms; at most 500/) });
    }
  });

  it('keeps /health answering while 20 of the worst SMILES under the cap are identified; each ends stored or rejected naming the limit', async () => {
    const user = await newUser();
    // 498 heavy atoms of a symmetric chain, written 20 ways (an explicit single bond moves along it),
    // so that no SMILES is answered from memory. InChI needs about a second for the first ones, until
    // V8 has optimised its code (then ~70 ms): those stop at its limit, the later ones are stored.
    const chain = (i: number) => `${'C(F)(F)'.repeat(i + 1)}-${'C(F)(F)'.repeat(165 - i)}`;
    const items = Array.from({ length: 20 }, (_, i) => calcWithAtoms(chain(i), { C: 166, F: 332, H: 2 }, i));
    const events: string[] = [];
    let ingesting = true;
    const poll = (async () => {
      while (ingesting) {
        const h = await call('health');
        events.push(`health ${h.status}`);
      }
    })();
    // The typed client sends deferred items again, so this is several requests, each within the budget.
    const results = await clientFor(user.token).ingest(items);
    events.push('ingest done');
    ingesting = false;
    await poll;

    for (const r of results) {
      expect(['created', 'rejected']).toContain(r.outcome);
      if (r.outcome === 'rejected') expect(r.errors![0].issue).toMatch(/per-molecule budget: InChI did not finish within \d+ ms/);
    }
    const during = events.slice(0, events.indexOf('ingest done'));
    expect(during.length, events.join(', ')).toBeGreaterThanOrEqual(3);
    expect(new Set(during)).toEqual(new Set(['health 200']));
  }, 300_000);
});

describe('the identity store', () => {
  it('is readable by no API role', async () => {
    for (const role of ['anon', 'authenticated', 'service_role'] as const) {
      const user = await newUser();
      const err = await asRole(role, user.id, (tx) => tx`select count(*) from private.molecule_identities`).catch((e) => e);
      expect(err?.code, role).toBe('42501'); // insufficient_privilege
    }
  });

  it('remembers each identified SMILES once, under the RDKit version, without any user id', async () => {
    const user = await newUser();
    const smiles = 'OCCOCCOCC(=O)N';
    const [r] = await clientFor(user.token).ingest([calcWithAtoms(smiles, { C: 6, H: 13, N: 1, O: 4 })]);
    expect(r.outcome).toBe('created');
    const rows = await adminSql()`select * from private.molecule_identities where input_smiles = ${smiles}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].identity_version).toMatch(/^rdkit-2026\.09\.1\//);
    expect(Object.keys(rows[0]).some((k) => /user/.test(k))).toBe(false);
    expect(rows[0]).toMatchObject({ formula: 'C6H13NO4', n_atoms: 24, elements: { C: 6, H: 13, N: 1, O: 4 } });
  });
});
