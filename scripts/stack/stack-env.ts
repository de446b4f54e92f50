// Reads .local/stack.env (written by `npm start`) as a plain object; missing file → empty.
import { readFile } from 'node:fs/promises';
import { repoPath } from './paths.ts';

export async function loadStackEnv(file = repoPath('.local/stack.env')): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const env: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  return env;
}
