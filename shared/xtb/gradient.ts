// Turbomole `gradient` files written by `xtb --grad`: per cycle, N coordinate lines (Bohr) and N gradient lines (Eh/Bohr).
import type { Vec3 } from '../contract/common.ts';
import { fail, ok, parseReal, textLines, type Parsed } from './text.ts';
import { normalizeElement } from './xyz.ts';

export interface GradientCycle {
  cycle: number;
  energyEh: number | null;
  /** |dE/dxyz| as printed (Eh/Bohr). */
  gradientNormEhBohr: number | null;
  elements: string[];
  coordsBohr: Vec3[];
  gradient: Vec3[];
}

function vec(parts: string[]): Vec3 | null {
  if (parts.length < 3) return null;
  const v = parts.slice(0, 3).map(parseReal);
  return v.some((x) => x === null) ? null : (v as Vec3);
}

/** Fixed-width Fortran output can glue numbers together (`-0.1D-01-0.2D-01`), so split on the numbers themselves. */
function gradientRow(line: string): Vec3 | null {
  const tokens = line.match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[DdEe][+-]?\d+)?/g) ?? [];
  return tokens.length === 3 && tokens.join('').length === line.replace(/\s+/g, '').length ? vec(tokens) : null;
}

/**
 * Reads the last cycle of a `$grad` group: Turbomole appends one cycle per gradient run, and
 * the last one belongs to the run whose output sits beside it.
 */
export function parseGradient(text: string): Parsed<GradientCycle> {
  const lines = textLines(text);
  const start = lines.findIndex((l) => l.trim().startsWith('$grad'));
  if (start < 0) return fail('gradient has no $grad group');
  const cycles: { header: string; body: string[] }[] = [];
  let ended = false;
  for (const raw of lines.slice(start + 1)) {
    const t = raw.trim();
    if (t.startsWith('$')) { ended = true; break; }
    if (/^cycle\s*=/.test(t)) cycles.push({ header: t, body: [] });
    else if (t !== '' && cycles.length > 0) cycles[cycles.length - 1].body.push(t);
  }
  if (!ended) return fail('gradient is truncated (no $end)');
  const last = cycles[cycles.length - 1];
  if (!last) return fail('gradient has no cycle');
  // Coordinate lines end in an element symbol, gradient lines do not: that is where they split.
  const n = last.body.findIndex((l) => l.split(/\s+/).length < 4);
  if (n <= 0 || last.body.length !== 2 * n) {
    return fail(`gradient cycle has ${n <= 0 ? 'no' : n} coordinate lines but ${last.body.length - Math.max(n, 0)} gradient lines`);
  }
  const elements: string[] = [];
  const coordsBohr: Vec3[] = [];
  const gradient: Vec3[] = [];
  for (let i = 0; i < n; i++) {
    const parts = last.body[i].split(/\s+/);
    const xyz = vec(parts);
    const el = normalizeElement(parts[3] ?? '');
    if (!xyz || !el) return fail(`gradient coordinate line ${i + 1} is unreadable: "${last.body[i].slice(0, 80)}"`);
    elements.push(el);
    coordsBohr.push(xyz);
    const g = gradientRow(last.body[n + i]);
    if (!g) return fail(`gradient line ${i + 1} is unreadable: "${last.body[n + i].slice(0, 80)}"`);
    gradient.push(g);
  }
  const num = (re: RegExp) => { const m = re.exec(last.header); return m ? parseReal(m[1]) : null; };
  return ok({
    cycle: num(/cycle\s*=\s*(\d+)/) ?? cycles.length,
    energyEh: num(/energy\s*=\s*(\S+)/),
    gradientNormEhBohr: num(/\|dE\/dxyz\|\s*=\s*(\S+)/),
    elements, coordsBohr, gradient,
  });
}
