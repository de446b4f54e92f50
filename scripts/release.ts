// `npm run release -- --dataset NAME --filter key=value … --license SPDX --author NAME [--out FILE]`:
// makes the next release of a dataset (created when missing) from any /query/calculations filter
// and/or a file of calculation ids (a large one is sealed over several requests, which the typed
// client follows, saying how far it is), prints its manifest (JSON, stdout), and with --out downloads
// the export part by part (cursor) while hashing it. For the canonical ndjson export the file's
// SHA-256 must equal the manifest's content hash, or the tool exits 1. With --version it makes no
// release and works on that existing one.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import * as datasets from '../shared/client-datasets.ts';
import { QfApiError } from '../shared/client.ts';
import type { ReleaseResponse } from '../shared/contract/datasets.ts';
import { EXPORT_FORMATS, type ExportFormat } from '../shared/contract/query.ts';
import { cliArgs, exitOnCliError, UsageError, wholeNumberArg } from './lib/cli-args.ts';
import { clientFor, preflight, resolveConnection, UnreachableError } from './lib/connection.ts';
import { loadStackEnv } from './stack/stack-env.ts';

const USAGE = [
  'usage: npm run release -- --dataset NAME (--filter KEY=VALUE … | --ids FILE) --license SPDX --author NAME … [options]',
  '  --dataset NAME       the dataset (created when you have none of that name)',
  '  --filter KEY=VALUE   a /query/calculations filter, e.g. --filter method=GFN2-xTB --filter elements=C,N,O;',
  '                       repeat for more; --filter all selects every completed calculation',
  '  --ids FILE           calculation ids, one per line (with --filter: the union)',
  '  --license SPDX       the licence, an SPDX id such as CC-BY-4.0',
  '  --author NAME        an author; repeat for more',
  '  --description TEXT   what the release is',
  '  --doi DOI            its DOI, e.g. 10.5281/zenodo.123',
  '  --citation TEXT      how to cite it',
  '  --split-seed SEED    train/validation/test split by molecule, with --split-fractions',
  '  --split-fractions F  train,validation,test, e.g. 0.8,0.1,0.1 (default with a seed)',
  '  --e0                 require reference atom energies for every element (409 lists the atoms to run)',
  '  --version N          make no release: print release N and export it',
  '  --out FILE           write the export to FILE, checking its SHA-256 against the manifest (ndjson)',
  '  --format FORMAT      ndjson (default), extxyz or csv, for --out',
  '  --split NAME         only train, validation or test, for --out',
  '  --profile mace       extxyz for MACE (REF_ keys, total_charge, total_spin), for --out',
  '  --user-id UUID       whose data, with the service-role key',
  '  -h, --help           print this help',
  'Acts as SUPABASE_ACCESS_TOKEN\'s user, or with SUPABASE_SERVICE_ROLE_KEY for --user-id; reads SUPABASE_URL',
  'from the environment or .local/stack.env. Prints the manifest on stdout; messages go to stderr.',
  'Exit codes: 0 done, 1 failed (or the file\'s SHA-256 differs), 2 usage or stack not reachable.',
].join('\n');

const say = (line: string) => process.stderr.write(`release: ${line}\n`);

/** Calculations per export request: each stays within a hosted function's limits. */
const PART = 20_000;

function parseFilters(list: string[]): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  const filters: Record<string, string> = {};
  for (const item of list) {
    if (item === 'all') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--filter must be KEY=VALUE (or all), not ${JSON.stringify(item)}`);
    filters[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return filters;
}

function parseFractions(text: string): { train: number; validation: number; test: number } {
  const parts = text.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new UsageError(`--split-fractions must be three numbers train,validation,test, not ${JSON.stringify(text)}`);
  }
  return { train: parts[0], validation: parts[1], test: parts[2] };
}

async function main(): Promise<number> {
  const { values } = cliArgs('release', USAGE, process.argv.slice(2), {
    allowPositionals: false,
    options: {
      dataset: { type: 'string' },
      filter: { type: 'string', multiple: true, default: [] },
      ids: { type: 'string' },
      license: { type: 'string' },
      author: { type: 'string', multiple: true, default: [] },
      description: { type: 'string' },
      doi: { type: 'string' },
      citation: { type: 'string' },
      'split-seed': { type: 'string' },
      'split-fractions': { type: 'string', default: '0.8,0.1,0.1' },
      e0: { type: 'boolean', default: false },
      version: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string', default: 'ndjson' },
      split: { type: 'string' },
      profile: { type: 'string' },
      'user-id': { type: 'string' },
    },
  });
  if (!values.dataset) throw new UsageError('--dataset is required');
  const format = values.format as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  const version = wholeNumberArg('--version', values.version, 1, 1e9);
  const filters = parseFilters(values.filter);
  const ids = values.ids
    ? (await readFile(values.ids, 'utf8')).split(/\s+/).filter(Boolean)
    : undefined;
  if (version === undefined) {
    if (!filters && !ids) throw new UsageError('give --filter (or --filter all), --ids FILE, or --version N');
    if (!values.license) throw new UsageError('--license is required to make a release (an SPDX id such as CC-BY-4.0)');
    if (values.author.length === 0) throw new UsageError('--author is required to make a release');
  }

  const conn = resolveConnection(values['user-id'], process.env, await loadStackEnv());
  await preflight(conn);
  const client = clientFor(conn);
  const owner = conn.userId ? { user_id: conn.userId } : {};

  const list = await datasets.listDatasets(client, owner);
  let dataset = list.data.find((d) => d.name === values.dataset);
  let release: ReleaseResponse;
  if (version !== undefined) {
    if (!dataset) throw new Error(`no dataset named ${values.dataset}`);
    release = await datasets.getRelease(client, dataset.id, version, owner);
  } else {
    if (!dataset) {
      dataset = await datasets.createDataset(client, { ...owner, name: values.dataset });
      say(`created dataset ${dataset.name} (${dataset.id})`);
    }
    release = await datasets.createRelease(client, dataset.id, {
      ...owner,
      license: values.license!,
      authors: values.author,
      description: values.description,
      doi: values.doi,
      citation: values.citation,
      filters,
      calculation_ids: ids,
      split: values['split-seed'] ? { seed: values['split-seed'], fractions: parseFractions(values['split-fractions']) } : undefined,
      reference_energies: values.e0,
    }, {
      onSealing: ({ release: r, sealing }) => say(`sealing release ${r.version}: ${sealing.hashed} of ${sealing.members} members hashed`),
    });
    say(`made release ${release.release.version} of ${dataset.name}: ${release.manifest.counts.calculations} calculations`);
  }
  process.stdout.write(`${JSON.stringify(release.manifest, null, 2)}\n`);
  if (!values.out) return 0;

  if (version === undefined) await readable(client, dataset.id, release.release.version, owner);
  const params = {
    ...owner, format, limit: PART,
    ...(values.split && { split: values.split as 'train' }),
    ...(values.profile && { profile: values.profile as 'mace' }),
  };
  const hash = createHash('sha256');
  let bytes = 0;
  const file = createWriteStream(values.out);
  for await (const chunk of datasets.releaseExportStream({
    url: conn.url, token: conn.key, datasetId: dataset.id, version: release.release.version, params,
  })) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    if (!file.write(chunk)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
  const sha256 = hash.digest('hex');
  const canonical = format === 'ndjson' && !values.split && !values.profile;
  if (!canonical) {
    say(`wrote ${values.out} (${bytes} bytes, sha256 ${sha256}; the manifest's hash is of the canonical ndjson export)`);
    return 0;
  }
  if (sha256 !== release.manifest.content.sha256) {
    say(`${values.out}: sha256 ${sha256} differs from the manifest's ${release.manifest.content.sha256}`);
    return 1;
  }
  say(`wrote ${values.out} (${bytes} bytes): sha256 ${sha256} matches the manifest`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  exitOnCliError(err, 'release', USAGE);
  if (err instanceof UnreachableError) {
    say(err.message);
    process.exit(2);
  }
  say(err instanceof QfApiError ? `HTTP ${err.status}: ${err.message}` : `${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});

/**
 * Waits until a release just made can be read. Downloads are read from the read replica when the
 * project has one, which applies the primary's commits a moment later: until then the new release
 * answers 404. Bounded, so a real 404 still ends the run.
 */
async function readable(client: ReturnType<typeof clientFor>, datasetId: string, version: number, owner: { user_id?: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await datasets.getRelease(client, datasetId, version, owner);
      return;
    } catch (err) {
      if (!(err instanceof QfApiError && err.status === 404) || attempt >= 30) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
