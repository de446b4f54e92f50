// Reading a stream whole, but never more than a cap: a request body (validate.ts) and a kept
// xtb.out as it decompresses (verify-provenance.ts) both come from the caller, so neither may make
// the function hold more than its limit in memory. Web APIs only: it runs in Deno and Node alike.

/** The stream's bytes, or null as soon as they pass `limit` (the rest is cancelled, not read). */
export async function readCapped(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
