// The SHA-256 whose state a release keeps between sealing parts (_shared/sha256.ts): the same
// digest as node:crypto for any input, fed in any pieces, and saved and restored at any point
// (empty input, the padding edges at 55, 56, 63 and 64 bytes, pieces of random sizes).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIDSTATE_WORDS_BYTES, Sha256 } from '../../supabase/functions/_shared/sha256.ts';

const reference = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A PRNG with a seed, so a failure names an input that can be made again. */
function prng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s % n;
  };
}

/** `data` hashed in pieces cut at `cuts`, the state saved and restored (through a copy) at each cut. */
function pieced(data: Uint8Array, cuts: number[]): string {
  let hash = new Sha256();
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    hash.update(data.subarray(at, cut));
    at = cut;
    const saved = Uint8Array.from(hash.save());
    expect(saved.length).toBe(MIDSTATE_WORDS_BYTES + (hash.bytes % 64));
    hash = Sha256.restore(saved, hash.bytes);
  }
  return hash.hex();
}

describe('Sha256', () => {
  it('known answers: empty input and "abc"', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex())
      .toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('equals node:crypto at every length around the padding edges, whole and saved at every cut', () => {
    for (const n of [0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192]) {
      const data = randomBytes(n);
      expect(new Sha256().update(data).hex(), `length ${n}`).toBe(reference(data));
      for (let cut = 0; cut <= n; cut++) expect(pieced(data, [cut]), `length ${n}, cut at ${cut}`).toBe(reference(data));
    }
  });

  it('equals node:crypto on random inputs cut at random points, with empty pieces', () => {
    const next = prng(19);
    for (let round = 0; round < 300; round++) {
      const data = randomBytes(next(5000));
      const cuts = Array.from({ length: next(12) }, () => next(data.length + 1)).sort((a, b) => a - b);
      expect(pieced(data, cuts), `round ${round}: ${data.length} bytes cut at ${cuts.join(',')}`).toBe(reference(data));
    }
  });

  it('a state restored after 2^32 bits and more writes the 64-bit length right', () => {
    // Restoring lets the length pass 2^32 bits (512 MiB) without hashing that much first: the
    // chaining words are whatever they are, so compare with a hash that took the same path.
    const words = new Sha256().update(randomBytes(64)).save();
    const big = 2 ** 33 + 64;
    const a = Sha256.restore(words, big).update(new Uint8Array(3)).hex();
    const b = Sha256.restore(words, big).update(new Uint8Array(3)).hex();
    expect(a).toBe(b);
    expect(a).not.toBe(Sha256.restore(words, 64).update(new Uint8Array(3)).hex());
  });

  it('refuses a state that does not fit its length, and an update after the digest', () => {
    expect(() => Sha256.restore(new Uint8Array(32), 5)).toThrow(/37 bytes/);
    const done = new Sha256();
    done.hex();
    expect(() => done.update(new Uint8Array(1))).toThrow(/after digest/);
  });
});
