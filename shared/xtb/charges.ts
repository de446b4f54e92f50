// xtb's `charges` and `gfnff_charges` files: one partial charge (e) per line, in atom order.
import { fail, ok, parseReal, textLines, type Parsed } from './text.ts';

export function parseCharges(text: string, fileName = 'charges'): Parsed<number[]> {
  const values: number[] = [];
  const lines = textLines(text);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '') continue;
    const v = /\s/.test(t) ? null : parseReal(t);
    if (v === null) return fail(`${fileName} line ${i + 1} is not one number: "${t.slice(0, 60)}"`);
    values.push(v);
  }
  if (values.length === 0) return fail(`${fileName} is empty`);
  return ok(values);
}
