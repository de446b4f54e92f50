// Appends one benchmark's table to bench/RESULTS.md with the date and the machine's core count.
import { appendFile } from 'node:fs/promises';
import os from 'node:os';
import { repoPath } from '../../scripts/stack/paths.ts';

export async function appendResults(name: string, setup: string, body: string): Promise<void> {
  const when = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const text = `\n## ${name} — ${when}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})\n\n${setup}\n\n${body}\n`;
  await appendFile(repoPath('bench/RESULTS.md'), text);
}
