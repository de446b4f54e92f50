// Small helpers of the database tests.
import { randomBytes } from 'node:crypto';

/** A well-formed, random InChIKey (14-10-1 capital letters). */
export function fakeInchikey(): string {
  const letters = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(65 + (b % 26))).join('');
  return `${letters(14)}-${letters(10)}-${letters(1)}`;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the statement to fail');
}
