// Text clean-up shared by every parser: job files may carry a UTF-8 byte-order mark and CRLF line ends.

const BOM = '\uFEFF';

/** Outcome of a pure parser: a value, or the reason the text could not be read. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Parsed<T> => ({ ok: false, error });

/** Removes a leading byte-order mark and turns CRLF (and lone CR) line ends into LF. */
export function normalizeText(text: string): string {
  const noBom = text.startsWith(BOM) ? text.slice(1) : text;
  return noBom.includes('\r') ? noBom.replace(/\r\n?/g, '\n') : noBom;
}

/** Normalised lines of a text file; a final newline does not produce an empty last line. */
export function textLines(text: string): string[] {
  const lines = normalizeText(text).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Parses a Fortran-style real: accepts `D`/`d` exponents (Turbomole, old xtb) and refuses
 * anything that is not a complete finite number, so `1.2.3` or `NaN` never slip through.
 */
export function parseReal(token: string): number | null {
  const t = token.trim().replace(/[dD]/, 'e');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

const NON_FINITE = '\u0000non-finite:';

export interface LenientJson {
  value: unknown;
  /** Paths such as `energy_hartree` or `atoms[2].charge` that held NaN or ±Infinity (now null). */
  nonFinite: string[];
}

/**
 * JSON.parse that survives the NaN/Infinity tokens Python's json and Fortran writers emit:
 * they become null and their paths are reported, so callers can name the damaged field.
 */
export function parseJsonLenient(text: string): Parsed<LenientJson> {
  const src = normalizeText(text);
  // Almost every file is plain JSON: only when the strict parser refuses it is it worth scanning
  // character by character for NaN and Infinity (about 100 µs a job, the uploader's hottest path).
  try {
    return ok({ value: JSON.parse(src), nonFinite: [] });
  } catch {
    // fall through to the lenient scan, which also says why the text is not JSON
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      out += c;
      if (c === '\\') out += src[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') { inString = true; out += c; continue; }
    const m = /^[-+]?(NaN|Infinity|inf)\b/i.exec(src.slice(i, i + 10));
    if (m && !/[\w.]/.test(src[i - 1] ?? '')) {
      out += JSON.stringify(NON_FINITE + m[0]);
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  let value: unknown;
  try {
    value = JSON.parse(out);
  } catch (e) {
    const trimmed = src.trimEnd();
    if (trimmed === '') return fail('is empty');
    const ends = trimmed.endsWith('}') || trimmed.endsWith(']');
    return fail(ends ? `is not valid JSON (${(e as Error).message})` : 'is truncated (not valid JSON: it ends mid-document)');
  }
  const nonFinite: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string' && v.startsWith(NON_FINITE)) { nonFinite.push(path || '(root)'); return null; }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k], path ? `${path}.${k}` : k);
    }
    return v;
  };
  return ok({ value: walk(value, ''), nonFinite });
}
