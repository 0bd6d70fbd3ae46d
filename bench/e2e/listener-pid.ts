// Finds the process listening on a local TCP port (the broker's JVM), from /proc/net/tcp and each process's open sockets, so its CPU can be shown beside the daemon's.
import fs from 'node:fs';

/** The inodes of the sockets listening on `port` (state 0A = LISTEN), IPv4 and IPv6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== '0A') continue;
      if (f[1]!.endsWith(`:${hexPort}`)) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/**
 * The pid of the process that listens on 127.0.0.1:`port` (any local address), or undefined: not on this machine, or
 * its file descriptors are not readable by this user. A broker elsewhere has no CPU this machine can show.
 */
export function listenerPid(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(fs.readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // the descriptor closed while we looked
      }
    }
  }
  return undefined;
}

/** The broker's pid from a bootstrap list: the first local host:port with a listener found. */
export function brokerPid(brokers: string): number | undefined {
  for (const b of brokers.split(',')) {
    const m = /^(?:[a-z]+:\/\/)?([^:]+):(\d+)$/i.exec(b.trim());
    if (m === null || !['127.0.0.1', 'localhost', '0.0.0.0', '::1'].includes(m[1]!)) continue;
    const pid = listenerPid(Number(m[2]));
    if (pid !== undefined) return pid;
  }
  return undefined;
}

/** Direct children of a process (e.g. the two kcat of a shell pipe), from each process's parent pid. */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}
