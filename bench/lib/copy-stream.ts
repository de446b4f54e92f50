// Writing to a COPY ... FROM STDIN stream (postgres.js `.writable()`) at the speed the server
// takes it: seeding millions of rows must not buffer them all in memory first.

/** Writes, and waits for the stream to drain when its buffer is full (backpressure). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return stream.write(text) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** Resolves when the stream has finished (the COPY is complete), rejects on its error. */
export function finished(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', () => resolve());
  });
}

/** Ends the stream and waits for the COPY to complete. */
export function endStream(stream: NodeJS.WritableStream): Promise<void> {
  const done = finished(stream);
  stream.end();
  return done;
}
