// The input geometry of an item: the one it carries, as given, or a 3D one from its SMILES with
// Open Babel (`obabel -:SMILES --gen3d -oxyz`). Open Babel exits 0 even for a SMILES it cannot read
// ("0 molecules converted" on stderr), so success is judged by the XYZ it prints.
import type { Geometry } from '../../shared/contract/common.ts';
import { parseXyz } from '../../shared/xtb/index.ts';
import { runProcess } from './process.ts';

export type GeometryResult =
  | { ok: true; atoms: Geometry; generated: boolean; seconds: number }
  | { ok: false; error_class: 'invalid_input' | 'timeout' | 'crash'; message: string; seconds: number };

/** Shortest text that reads back as the same double, without exponents (which not every reader takes). */
function coord(x: number): string {
  const s = String(x);
  return /e/i.test(s) ? x.toFixed(12) : s;
}

/** An XYZ file xtb reads, with every coordinate reading back exactly. */
export function toXyz(atoms: Geometry, comment = ''): string {
  const lines = atoms.map((a) => `${a.element} ${coord(a.xyz[0])} ${coord(a.xyz[1])} ${coord(a.xyz[2])}`);
  return `${atoms.length}\n${comment.replace(/[\r\n]/g, ' ')}\n${lines.join('\n')}\n`;
}

const lastLine = (text: string) => text.trim().split('\n').map((l) => l.trim()).filter((l) => l && !/^=+$/.test(l)).slice(-3).join(' ');

export interface GeometryOptions {
  obabel: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export async function geometryFor(item: { smiles: string; geometry: Geometry | null }, opts: GeometryOptions): Promise<GeometryResult> {
  if (item.geometry) return { ok: true, atoms: item.geometry, generated: false, seconds: 0 };
  // `-:` takes the SMILES as one argv word: no shell, so nothing in it is interpreted.
  const run = await runProcess(opts.obabel, [`-:${item.smiles}`, '--gen3d', '-oxyz'], {
    cwd: opts.cwd, env: opts.env ?? process.env, timeoutMs: opts.timeoutMs, signal: opts.signal,
  });
  const seconds = run.seconds;
  if (run.spawnError) return { ok: false, error_class: 'crash', message: `cannot run ${opts.obabel}: ${run.spawnError}`, seconds };
  if (run.timedOut) return { ok: false, error_class: 'timeout', message: `obabel --gen3d ran past ${opts.timeoutMs / 1000} s`, seconds };
  if (run.aborted) return { ok: false, error_class: 'crash', message: 'obabel was stopped', seconds };
  const xyz = run.stdout.trim() ? parseXyz(run.stdout) : null;
  if (run.exitCode !== 0 || !xyz?.ok) {
    const why = lastLine(run.stderr) || (xyz && !xyz.ok ? xyz.error : 'no geometry');
    return { ok: false, error_class: 'invalid_input', message: `obabel could not make a 3D geometry from ${JSON.stringify(item.smiles)}: ${why}`, seconds };
  }
  return { ok: true, atoms: xyz.value.atoms, generated: true, seconds };
}
