// A formula as a user types it in a query (`formula=c2h6o`, `OC2H6`, `CH3CH2OH`), brought to the
// Hill formula stored with each molecule (C2H6O): element counts added up, then written in Hill
// order by hillFormula, the writer of the stored ones. Symbols are read as written when that works
// (`CO` is carbon and oxygen, `Co` cobalt); text in the wrong case is read case-insensitively,
// and when that can be read two ways (`co`) the answer names both and asks for capitals. A
// trailing charge (`+`, `-2`) is kept as written.
import { atomicNumber, hillFormula, normaliseSymbol } from './elements.ts';

export type FormulaQuery = { formula: string } | { issue: string };

const CHARGE = /([+-]\d*)$/;
const TOKEN = /([A-Za-z]+)(\d*)/g;

/**
 * Up to two ways to read a run of letters as element symbols, ignoring case: none, one, or
 * "ambiguous". From the end backwards, each position keeps at most two readings of the rest, so
 * the work is linear in the length (`coco…` has exponentially many).
 */
function readings(letters: string): string[][] {
  const at: string[][][] = new Array(letters.length + 1);
  at[letters.length] = [[]];
  for (let i = letters.length - 1; i >= 0; i--) {
    at[i] = [];
    for (const len of [1, 2]) {
      const symbol = normaliseSymbol(letters.slice(i, i + len));
      if (i + len > letters.length || atomicNumber(symbol) === undefined) continue;
      for (const rest of at[i + len]) if (at[i].length < 2) at[i].push([symbol, ...rest]);
    }
  }
  return at[0];
}

/** The symbols of a run of letters as written: `ClO` → Cl, O; undefined if any is not an element. */
function asWritten(letters: string): string[] | undefined {
  const symbols = letters.match(/[A-Z][a-z]?|[a-z]+/g) ?? [];
  return symbols.every((s) => /^[A-Z]/.test(s) && atomicNumber(s) !== undefined) ? symbols : undefined;
}

export function normaliseFormulaQuery(text: string): FormulaQuery {
  const charge = CHARGE.exec(text)?.[1] ?? '';
  const body = charge ? text.slice(0, -charge.length) : text;
  // Letters and digits, a letter first. Not /^([A-Za-z]+\d*)+$/: its nested quantifiers backtrack
  // exponentially on a long run that fails at its end (the fuzz suite's cursor text stalled the isolate).
  if (!/^[A-Za-z][A-Za-z\d]*$/.test(body)) {
    return { issue: 'must be a formula such as C2H6O: element symbols with counts, optionally a charge (+, -2)' };
  }
  const counts = new Map<string, number>();
  for (const [, letters, digits] of body.matchAll(TOKEN)) {
    let symbols = asWritten(letters);
    if (!symbols) {
      const all = readings(letters);
      if (all.length === 0) return { issue: `${letters} is not made of element symbols` };
      if (all.length > 1) {
        return { issue: `${letters} can be read as ${all.map((r) => r.join('')).join(' or ')}; write the symbols with capitals` };
      }
      symbols = all[0];
    }
    const n = digits === '' ? 1 : Number(digits);
    if (!Number.isSafeInteger(n) || n < 1) return { issue: `the count of ${symbols[symbols.length - 1]} must be at least 1` };
    symbols.forEach((s, i) => counts.set(s, (counts.get(s) ?? 0) + (i === symbols.length - 1 ? n : 1)));
  }
  return { formula: hillFormula(counts) + charge };
}
