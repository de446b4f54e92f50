// "Port in use" is only useful with the name of whoever holds it. Linux lists listening sockets
// in /proc/net/tcp{,6} by inode, and each process's descriptors link to `socket:[inode]`.
import { readFile, readdir, readlink } from 'node:fs/promises';
import net from 'node:net';

export interface PortOwner {
  pid: number;
  command: string;
}

/** Whether something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st … inode; st 0A is LISTEN.
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** The process listening on `port`, when this user may see it. */
export async function portOwner(port: number): Promise<PortOwner | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => []);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        return { pid: Number(entry), command: cmdline.split('\0').filter(Boolean).join(' ').slice(0, 120) };
      }
    }
  }
  return undefined;
}

/** "port 54322 is in use by pid 123 (postgres -D …)", or as much of it as can be known. */
export async function describePortInUse(port: number, what: string): Promise<string> {
  const owner = await portOwner(port);
  const by = owner ? ` by pid ${owner.pid} (${owner.command})` : '';
  return `${what} port ${port} is in use${by}; stop that process or choose another port`;
}
