// A free TCP port on loopback, so that private stacks (tests, benchmarks, `npm run db:schema`)
// never collide with `npm start` or with each other.
import net from 'node:net';

/** A port on 127.0.0.1 that nothing listens on now: the kernel's pick for port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
