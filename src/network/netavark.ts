// The network stack adapter: podman's netavark (bridges, veths, iptables NAT and port forwarding) and aardvark-dns.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError } from '../errdefs';
import { AardvarkFiles } from './aardvark-files';

/** One network as netavark takes it ("network_info"). */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  options?: Record<string, string>;
  ipam_options: { driver: 'host-local' };
}

export interface NetavarkPortMapping { host_ip: string; container_port: number; host_port: number; range: number; protocol: 'tcp' | 'udp' | 'sctp' }

/** netavark's network options: what `setup` and `teardown` read (the same document for both). */
export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; static_mac?: string; aliases?: string[] }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings?: NetavarkPortMapping[];
  dns_servers?: string[];
}

/** What `setup` reports per network: the interfaces made in the namespace, with MAC and addresses. */
export type NetavarkStatus = Record<string, {
  interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
  dns_server_ips?: string[];
  dns_search_domains?: string[];
}>;

/** Sets up and tears down a container's interfaces, rules and DNS entries in a network namespace. */
export interface NetworkDriver {
  setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkStatus>;
  /** `last`: no other container is on these networks any more, so netavark removes the networks' rules too. */
  teardown(netnsPath: string, opts: NetavarkOptions, last?: boolean): Promise<void>;
  /** Adds addresses ("169.254.8.8/16") to an interface in the namespace: the link-local IPs netavark does not set. */
  addAddresses(netnsPath: string, ifname: string, cidrs: string[]): Promise<void>;
  /**
   * Sets the DNS names (name and aliases) of containers already set up on a network, by container ID, and has the
   * DNS server reload when that changed anything; containers not on the network are skipped.
   */
  setDnsNames(networkName: string, names: Record<string, string[]>): Promise<void>;
}

export interface NetavarkPaths {
  netavark: string;
  aardvark: string;
  /** netavark's config directory (aardvark-dns's entries and lock): per daemon, on tmpfs. */
  configDir: string;
}

export const DEFAULT_NETAVARK = '/usr/lib/podman/netavark';
export const DEFAULT_AARDVARK = '/usr/lib/podman/aardvark-dns';

export class Netavark implements NetworkDriver {
  private readonly dnsFiles: AardvarkFiles;

  constructor(private readonly p: NetavarkPaths) {
    this.dnsFiles = new AardvarkFiles(p.configDir);
  }

  async setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkStatus> {
    const out = await this.run('setup', netnsPath, opts);
    await Promise.all(Object.values(opts.network_info).map((n) => pinBridgeMac(n.network_interface)));
    try {
      return JSON.parse(out) as NetavarkStatus;
    } catch {
      throw new SystemError(`netavark setup printed no status: ${out.slice(0, 200)}`);
    }
  }

  async addAddresses(netnsPath: string, ifname: string, cidrs: string[]): Promise<void> {
    for (const cidr of cidrs) {
      await new Promise<void>((resolve, reject) => {
        execFile('nsenter', [`--net=${netnsPath}`, 'ip', 'addr', 'add', cidr, 'dev', ifname], { encoding: 'utf8' }, (err, _o, stderr) => {
          if (err) reject(new SystemError(`cannot add link-local address ${cidr} to ${ifname}: ${stderr.trim() || err.message}`));
          else resolve();
        });
      });
    }
  }

  /**
   * Rewrites the names field of containers' lines in aardvark-dns's file for the network (`<id> <ipv4s> <ipv6s>
   * <names>[ <dns servers>]`, netavark's format) and has aardvark-dns reload (aardvark-files.ts).
   */
  async setDnsNames(networkName: string, names: Record<string, string[]>): Promise<void> {
    await this.dnsFiles.edit(networkName, (lines) => lines.map((line, i) => {
      const fields = line.split(' ');
      const wanted = i > 0 && fields.length >= 4 ? names[fields[0]!] : undefined;
      if (!wanted?.length || fields[3] === wanted.join(',')) return line;
      fields[3] = wanted.join(',');
      return fields.join(' ');
    }));
  }

  async teardown(netnsPath: string, opts: NetavarkOptions, last = true): Promise<void> {
    try {
      await this.run('teardown', netnsPath, opts);
    } finally {
      // netavark's slips below: the jump goes when it tears a network down completely; the port-forwarding chain
      // is left empty when a container with published ports leaves (and then never removed, if it was not the last).
      // IPv6 networks have the same rules, and the same slips, in ip6tables.
      const families: IpTables[] = Object.values(opts.network_info).some((n) => n.ipv6_enabled) ? ['iptables', 'ip6tables'] : ['iptables'];
      for (const cmd of families) {
        if (last) await repairIsolationJump(cmd).catch(() => undefined);
        if (last || opts.port_mappings?.length) {
          await Promise.all(Object.values(opts.network_info).map((n) => removeIdleChains(cmd, n.name))).catch(() => undefined);
        }
      }
    }
  }

  /**
   * Runs netavark with the options in a file and its output in files, not pipes: netavark starts aardvark-dns with
   * its own stdio inherited, and a pipe held open by that daemon would never end.
   */
  private async run(verb: 'setup' | 'teardown', netnsPath: string, opts: NetavarkOptions): Promise<string> {
    await fsp.mkdir(path.join(this.p.configDir, 'aardvark-dns'), { recursive: true });
    const tag = randomBytes(6).toString('hex');
    const input = path.join(this.p.configDir, `.opts-${tag}.json`);
    const output = path.join(this.p.configDir, `.out-${tag}`);
    await fsp.writeFile(input, JSON.stringify(opts));
    const outFd = fs.openSync(output, 'w');
    const logFd = fs.openSync(path.join(this.p.configDir, 'netavark.log'), 'a');
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(this.p.netavark, ['--config', this.p.configDir, '-a', this.p.aardvark, '-f', input, verb, netnsPath], {
          stdio: ['ignore', outFd, logFd],
          // A short PATH: netavark looks iptables up for each of its ~30 calls.
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        });
        child.once('error', reject);
        child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
      });
      const text = await fsp.readFile(output, 'utf8').catch(() => '');
      if (code !== 0) throw new SystemError(`netavark ${verb}: ${errorText(text) || `exit code ${code}`}`);
      return text;
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(logFd);
      await Promise.all([fsp.rm(input, { force: true }), fsp.rm(output, { force: true })]);
    }
  }
}

/**
 * netavark 1.4 deletes FORWARD's jump to NETAVARK_ISOLATION_1 when any one isolated network is torn down completely,
 * although other networks (ours, another berthd's, podman's) still have isolation rules there: until the next
 * setup re-inserts it, those networks could reach each other. Put the jump back while the chain has rules.
 */
async function repairIsolationJump(cmd: IpTables): Promise<void> {
  const chain = await iptables(cmd, ['-S', ISOLATION_CHAIN]);
  if (chain.code !== 0 || !chain.stdout.includes(`-A ${ISOLATION_CHAIN} `)) return;
  if ((await iptables(cmd, ['-C', 'FORWARD', '-j', ISOLATION_CHAIN])).code === 0) return;
  await iptables(cmd, ['-I', 'FORWARD', '1', '-j', ISOLATION_CHAIN]);
}

const ISOLATION_CHAIN = 'NETAVARK_ISOLATION_1';

/**
 * A Linux bridge whose MAC was never set takes the lowest MAC of its ports, so it changes as containers come and go,
 * and the containers already running keep the gateway's old MAC in their ARP cache: their packets to the gateway
 * (NAT, published ports, aardvark-dns) are dropped until the entry is probed again, seconds later. netavark 1.4 does
 * not fix the bridge's MAC (Docker does); setting it to the one it has now pins it for the bridge's life.
 */
async function pinBridgeMac(bridge: string): Promise<void> {
  const dir = path.join('/sys/class/net', bridge);
  const assigned = (await fsp.readFile(path.join(dir, 'addr_assign_type'), 'utf8').catch(() => '')).trim();
  // 3: NET_ADDR_SET, a MAC set from user space, which the bridge keeps.
  if (!assigned || assigned === '3') return;
  const mac = (await fsp.readFile(path.join(dir, 'address'), 'utf8')).trim();
  await new Promise<void>((resolve, reject) => {
    execFile('ip', ['link', 'set', 'dev', bridge, 'address', mac], { encoding: 'utf8' }, (err, _o, stderr) => {
      if (err) reject(new SystemError(`cannot fix the MAC address of bridge ${bridge}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * netavark 1.4 leaves a network's port-forwarding chain (nat NETAVARK-DN-<hash>) behind, empty, when the last
 * container that published a port leaves before the network's last container does. `-X` deletes a chain only when it
 * is empty and nothing jumps to it, so asking after every teardown removes exactly the leftovers.
 */
async function removeIdleChains(cmd: IpTables, networkName: string): Promise<void> {
  const hash = chainHash(networkName);
  await Promise.all([`NETAVARK-DN-${hash}`, `NETAVARK-${hash}`].map((chain) => iptables(cmd, ['-t', 'nat', '-X', chain])));
}

/** netavark's chain suffix for a network: the first 13 hex digits (upper case) of the SHA-512 of its name. */
export function chainHash(networkName: string): string {
  return createHash('sha512').update(networkName).digest('hex').toUpperCase().slice(0, 13);
}

type IpTables = 'iptables' | 'ip6tables';

function iptables(cmd: IpTables, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, ['-w', ...args], { encoding: 'utf8' }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stdout });
    });
  });
}

/** netavark prints {"error": "..."} on failure. */
function errorText(out: string): string {
  try {
    const j = JSON.parse(out) as { error?: string };
    if (j.error) return j.error.replace(/\n\t/g, '; ').trim();
  } catch {
    // not JSON: the raw text says more than nothing
  }
  return out.trim();
}
