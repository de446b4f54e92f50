// SHA-256 (FIPS 180-4) whose running state can be saved and taken up again in another request.
// A release's content hash covers its whole ndjson export, which for 10^5 or more members costs
// more CPU than one hosted request has (2 s), so the datasets function hashes it part by part
// (docs/releases.md, "Sealing in parts"), keeping the state between parts in the release row.
// node:crypto's Hash and Web Crypto cannot hand out their state, hence this one: the state is the
// eight chaining words, the bytes of an unfinished 64-byte block and the length so far.
//
// Written for V8: 32-bit integer arithmetic (`| 0`, `>>>`), the message schedule in one reused
// Int32Array, whole blocks read straight from the caller's bytes. bench:release measures it beside
// node:crypto in the same run.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Bytes of a saved state: the eight words (big-endian), then the unfinished block's bytes (0–63). */
export const MIDSTATE_WORDS_BYTES = 32;

export class Sha256 {
  private readonly h = new Int32Array(INITIAL);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(64);
  private pending = 0;
  private total = 0;
  private done = false;

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.total;
  }

  update(data: Uint8Array): this {
    if (this.done) throw new Error('sha256: update after digest');
    const n = data.length;
    this.total += n;
    let i = 0;
    if (this.pending > 0) {
      const take = Math.min(64 - this.pending, n);
      this.block.set(data.subarray(0, take), this.pending);
      this.pending += take;
      i = take;
      if (this.pending < 64) return this;
      this.compress(this.block, 0);
      this.pending = 0;
    }
    for (; i + 64 <= n; i += 64) this.compress(data, i);
    if (i < n) {
      this.block.set(data.subarray(i), 0);
      this.pending = n - i;
    }
    return this;
  }

  /**
   * The state to take up later: the eight words and the unfinished block's bytes. The length is
   * kept beside it (`bytes`); `restore(save(), bytes)` continues where this one stands.
   */
  save(): Uint8Array {
    const out = new Uint8Array(MIDSTATE_WORDS_BYTES + this.pending);
    const view = new DataView(out.buffer);
    for (let j = 0; j < 8; j++) view.setInt32(j * 4, this.h[j]);
    out.set(this.block.subarray(0, this.pending), MIDSTATE_WORDS_BYTES);
    return out;
  }

  /** A hash that continues from a saved state after `bytes` bytes (`bytes % 64` of them pending). */
  static restore(midstate: Uint8Array, bytes: number): Sha256 {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || midstate.length !== MIDSTATE_WORDS_BYTES + (bytes % 64)) {
      throw new Error(`sha256: a saved state after ${bytes} bytes has ${MIDSTATE_WORDS_BYTES + (bytes % 64)} bytes, not ${midstate.length}`);
    }
    const s = new Sha256();
    const view = new DataView(midstate.buffer, midstate.byteOffset, midstate.byteLength);
    for (let j = 0; j < 8; j++) s.h[j] = view.getInt32(j * 4);
    s.pending = bytes % 64;
    s.block.set(midstate.subarray(MIDSTATE_WORDS_BYTES), 0);
    s.total = bytes;
    return s;
  }

  /** The digest as 64 hex digits; the hash takes nothing more after it. */
  hex(): string {
    this.done = true;
    const bits = this.total * 8;
    const block = this.block;
    block[this.pending] = 0x80;
    block.fill(0, this.pending + 1);
    if (this.pending >= 56) {
      this.compress(block, 0);
      block.fill(0);
    }
    const view = new DataView(block.buffer);
    view.setUint32(56, Math.floor(bits / 0x1_0000_0000));
    view.setUint32(60, bits >>> 0);
    this.compress(block, 0);
    let out = '';
    for (let j = 0; j < 8; j++) out += (this.h[j] >>> 0).toString(16).padStart(8, '0');
    return out;
  }

  /** One 64-byte block at `at` of `d` into the chaining words. */
  private compress(d: Uint8Array, at: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const p = at + t * 4;
      w[t] = (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const h = this.h;
    let a = h[0], b = h[1], c = h[2], e = h[4], f = h[5], g = h[6], k = h[7], dd = h[3];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (k + S1 + ch + K[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      k = g;
      g = f;
      f = e;
      e = (dd + t1) | 0;
      dd = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + dd) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + k) | 0;
  }
}
