// Container names on a bridge network with DNS (user networks, overlays): aardvark-dns's per-network files, the
// layout netavark used (so the overlay's lines, aardvark-files.ts, sit beside them), and the one aardvark-dns
// process of this daemon's config dir, started with the first network that needs it and stopped after the last.
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { SystemError } from '../../errdefs';
import { ip6ToBig, ipToInt } from '../addresses';
import { KeyedMutex } from '../../util/mutex';
import { AardvarkFiles } from '../aardvark-files';

/** One container's line: `<id> <ipv4s> <ipv6s> <names>[ <dns servers>]` (netavark 1.4's format). */
export interface DnsEntry {
  containerId: string;
  ipv4: string[];
  ipv6: string[];
  /** The container's name first, then its aliases. */
  names: string[];
  /** Upstream servers for this container (--dns), asked for names aardvark-dns does not hold. */
  servers?: string[];
}

export interface BridgeDns {
  /** Adds (or replaces) the container's line on the network; `listen`: the gateways aardvark-dns answers on. */
  add(network: string, listen: string[], entry: DnsEntry): Promise<void>;
  /** Removes the container's line; the network's file goes with its last line, the server with the last file. */
  remove(network: string, containerId: string): Promise<void>;
  /** Sets the names of containers present on the network (by ID); lines of others are left alone. */
  setNames(network: string, names: Record<string, string[]>): Promise<void>;
}

export function dnsLine(e: DnsEntry): string {
  const line = `${e.containerId} ${e.ipv4.join(',')} ${e.ipv6.join(',')} ${e.names.join(',')}`;
  return e.servers?.length ? `${line} ${e.servers.join(',')}` : line;
}

/** The lines without `containerId`'s (the first line, the listen addresses, always kept), ending with a newline. */
export function withoutEntry(lines: string[], containerId: string): string[] {
  const kept = entriesOf(lines, containerId);
  return kept.length ? [lines[0]!, ...kept, ''] : [];
}

/** The entry lines (not the first line, not blank), but `containerId`'s. */
function entriesOf(lines: string[], containerId: string): string[] {
  return lines.slice(1).filter((l) => l !== '' && l.split(' ')[0] !== containerId);
}

/** The lines with `names` (by container ID) in the names field of the containers' lines. */
export function withNames(lines: string[], names: Record<string, string[]>): string[] {
  return lines.map((line, i) => {
    const fields = line.split(' ');
    const wanted = i > 0 && fields.length >= 4 ? names[fields[0]!] : undefined;
    if (!wanted?.length || fields[3] === wanted.join(',')) return line;
    fields[3] = wanted.join(',');
    return fields.join(' ');
  });
}

export class AardvarkBridgeDns implements BridgeDns {
  private readonly files: AardvarkFiles;
  /** Edits with starting and stopping the server, one at a time: two first networks must not start two servers. */
  private readonly server = new KeyedMutex();

  constructor(configDir: string, private readonly aardvark: string) {
    this.files = new AardvarkFiles(configDir);
  }

  async add(network: string, listen: string[], entry: DnsEntry): Promise<void> {
    const line = dnsLine(entry);
    // The edit and the look at the server together, in turn with removes': endpoints are set up side by side, and a
    // remove that found no network left (its SIGTERM) between this edit and this look would leave no server.
    await this.server.run('server', async () => {
      // The first line is rewritten too: a network whose subnet changed listens on its new gateway.
      await this.files.edit(network, (lines) => [listen.join(','), ...entriesOf(lines, entry.containerId), line, ''], listen.join(','));
      // Running: the edit's SIGHUP had it read the file. Not running: it reads every file as it starts.
      if (!(await this.files.running())) await this.start();
    });
    // aardvark-dns binds a network's gateway a moment after its start or the SIGHUP: the container's first lookup
    // (often its first act) met "connection refused" when it came first, on a loaded host.
    await udpListening(listen, 53);
  }

  async remove(network: string, containerId: string): Promise<void> {
    await this.server.run('server', async () => {
      await this.files.edit(network, (lines) => withoutEntry(lines, containerId));
      if (!(await this.files.networks()).length) await this.files.signal('SIGTERM');
    });
  }

  async setNames(network: string, names: Record<string, string[]>): Promise<void> {
    await this.files.edit(network, (lines) => withNames(lines, names));
  }

  /**
   * `aardvark-dns run` daemonizes: the first process exits once the server is forked.
   * Its stdio goes nowhere: a pipe held open by the daemon would never end.
   */
  private async start(): Promise<void> {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(this.aardvark, ['--config', this.files.dir, '-p', '53', 'run'], { stdio: 'ignore' });
      child.once('error', (e) => reject(new SystemError(`cannot start aardvark-dns: ${e.message}`)));
      child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    if (code !== 0) throw new SystemError(`aardvark-dns exited ${code} at start (config ${this.files.dir})`);
    // The daemon writes its pid file a moment after the first process exits; the next add must find it running.
    for (let i = 0; i < 200 && !(await this.files.running()); i++) await new Promise((r) => setTimeout(r, 10));
  }
}

/** How long an add waits for aardvark-dns to bind its addresses before going on (its lookups then may fail). */
const LISTEN_WAIT_MS = 3_000;

/**
 * Settles once something listens on UDP `port` at each of `addresses` (the host's /proc/net/udp and udp6), or after
 * LISTEN_WAIT_MS. A few reads of small tables: once bound, the first one answers.
 */
export async function udpListening(addresses: string[], port: number): Promise<boolean> {
  const wanted = addresses.map((a) => procNetAddress(a, port));
  for (let waited = 0; ; waited += 10) {
    const [v4, v6] = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((f) => fsp.readFile(f, 'utf8').catch(() => '')));
    const bound = new Set(`${v4}\n${v6}`.split('\n').map((l) => l.trim().split(/\s+/)[1]));
    if (wanted.every((w) => bound.has(w))) return true;
    if (waited >= LISTEN_WAIT_MS) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An address and port as /proc/net/udp{,6} print a local address: the address in 32-bit words, each in the host's
 * byte order (little-endian here), then the port, in hex (10.0.0.1:53 → 0100000A:0035).
 */
export function procNetAddress(address: string, port: number): string {
  const bytes: number[] = [];
  if (isIPv4(address)) {
    const n = ipToInt(address);
    for (let i = 3; i >= 0; i--) bytes.push((n >>> (8 * i)) & 0xff);
  } else {
    const n = ip6ToBig(address);
    for (let i = 15; i >= 0; i--) bytes.push(Number((n >> BigInt(8 * i)) & 0xffn));
  }
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) {
    hex += bytes.slice(i, i + 4).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}
