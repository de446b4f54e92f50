// `npm run openapi`: writes docs/openapi.json, every function's routes in one OpenAPI 3.1 document,
// generated from the route registry (shared/api) and the zod contract. `--check` writes nothing and
// exits 1 when the committed file is not what the contract generates now.
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { ALL_FUNCTIONS } from '../shared/api/all-functions.ts';
import { openApiDocument } from '../shared/api/openapi-document.ts';
import { cliArgs } from './lib/cli-args.ts';
import { repoPath } from './stack/paths.ts';

const USAGE = [
  'usage: npm run openapi [-- --check] [--out FILE]',
  '  --check     compare instead of writing: exit 1 when the file is stale',
  '  --out FILE  where to write (default docs/openapi.json)',
  '  -h, --help  print this help',
  'Generates the OpenAPI 3.1 document of every function from shared/api/ and shared/contract/.',
].join('\n');

export const OPENAPI_FILE = repoPath('docs/openapi.json');

/** The merged document as committed: two-space JSON with a final newline. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(ALL_FUNCTIONS), null, 2)}\n`;
}

async function main(): Promise<void> {
  const { values } = cliArgs('openapi', USAGE, process.argv.slice(2), {
    allowPositionals: false,
    options: { check: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const file = values.out ?? OPENAPI_FILE;
  const text = openApiText();
  if (values.check) {
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed !== text) {
      process.stderr.write(`openapi: ${file} is stale; run \`npm run openapi\` and commit it\n`);
      process.exit(1);
    }
    process.stderr.write(`openapi: ${file} is current\n`);
    return;
  }
  await writeFile(file, text);
  process.stderr.write(`openapi: wrote ${file} (${text.length} bytes)\n`);
}

// Run as a script, not when a test imports openApiText.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`openapi: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  });
}
