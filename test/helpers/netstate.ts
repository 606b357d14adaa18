// What one test daemon has made in the host's network stack: interfaces, iptables rules, namespaces, leases and DNS
// entries — so network tests can compare before and after, and assert that nothing is left behind.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { TestDaemon } from './daemon';
import type { NetworkInspect } from './api-types';

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

/** An HTTP GET through curl (5 s at most): its exit code and body. */
export function curl(url: string): { code: number | null; out: string } {
  const r = spawnSync('curl', ['-s', '-m', '5', url], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout };
}

function sh(file: string, args: string[]): string {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  return r.stdout || '';
}

/** What the lease store keeps per sandbox (the fields the tests read). */
interface SandboxRecord {
  containerId: string;
  attachments: { networkName: string; ip: string }[];
  ports: { hostIp?: string; hostPort: number; proto: string }[];
}

/** The host's network state that belongs to one daemon, by kind. */
export interface NetSnapshot {
  links: string[];
  rules: string[];
  netns: string[];
  leases: string[];
  dns: string[];
}

/**
 * Tracks a daemon's bridges, subnets and netavark chains. Other daemons (other tests, other sessions) share the host,
 * so everything is matched by what is this daemon's own: its bridge names, its subnets, the chains seen using them.
 */
export class NetState {
  readonly d: TestDaemon;
  readonly bridges: Set<string>;
  readonly subnets: Set<string>;
  readonly chains: Set<string>;

  constructor(d: TestDaemon) {
    this.d = d;
    this.bridges = new Set([d.bridge]);
    this.subnets = new Set();
    this.chains = new Set();
  }

  /** Learns the daemon's networks (bridges and subnets) from the API; call while they exist. */
  learn(): this {
    const r = this.d.api('GET', '/networks');
    if (r.status !== 200) return this;
    for (const n of JSON.parse(r.body) as NetworkInspect[]) {
      const bridge = n.Options?.['com.docker.network.bridge.name'] || (n.Driver === 'bridge' ? `br-${n.Id.slice(0, 12)}` : '');
      if (bridge) this.bridges.add(bridge);
      for (const c of n.IPAM?.Config ?? []) if (c.Subnet) this.subnets.add(c.Subnet);
      // netavark names a network's nat chains after the SHA-512 of the name it is given (Berth gives the ID).
      const hash = createHash('sha512').update(n.Id).digest('hex').toUpperCase().slice(0, 13);
      if (n.Driver === 'bridge') this.chains.add(`NETAVARK-${hash}`).add(`NETAVARK-DN-${hash}`);
    }
    for (const line of this.rules()) this.chainsOf(line);
    return this;
  }

  chainsOf(line: string): void {
    for (const m of line.matchAll(/(?:-A|-j|-I) (NETAVARK-[A-Z0-9-]+)/g)) {
      if (/^NETAVARK-(DN-)?[0-9A-F]{13}$/.test(m[1])) this.chains.add(m[1]);
    }
  }

  /**
   * Prefixes that match addresses of the subnets (/24 or wider: whole octets). A subnet of ours that the host now
   * routes through a device not ours was freed and taken by another daemon (other tests run beside this one):
   * its rules are that daemon's.
   */
  prefixes(): string[] {
    const routes = sh('ip', ['-4', 'route']).split('\n');
    const takenByOthers = (subnet: string): boolean => routes.some((l) => {
      const dev = / dev (\S+)/.exec(l)?.[1];
      return l.startsWith(`${subnet} `) && dev !== undefined && !this.bridges.has(dev);
    });
    return [...this.subnets].filter((s) => !takenByOthers(s)).map((s) => {
      const [ip, bits] = s.split('/');
      const octets = Math.floor(Number(bits) / 8);
      return `${ip.split('.').slice(0, Math.max(1, octets)).join('.')}.`;
    });
  }

  /** iptables lines (both tables) naming one of our bridges, subnets or chains. */
  rules(): string[] {
    const text = sh('iptables-save', []);
    const prefixes = this.prefixes();
    const out: string[] = [];
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const mine = prefixes.some((p) => line.includes(` ${p}`) || line.includes(`:${p}`) || line.includes(`=${p}`))
        || [...this.bridges].some((b) => new RegExp(`(-i|-o) ${b.replace(/\./g, '\\.')}( |$)`).test(line))
        || [...this.chains].some((c) => line.includes(c));
      if (mine) out.push(line.replace(/\[\d+:\d+\]/, '').trim());
    }
    for (const l of out) this.chainsOf(l);
    return out.sort();
  }

  /** `ip -o link` entries that are our bridges or are enslaved to them (the host ends of veths). */
  links(): string[] {
    const out: string[] = [];
    for (const line of sh('ip', ['-o', 'link']).split('\n')) {
      const m = /^\d+: ([^:@]+)(?:@[^:]+)?: /.exec(line);
      if (!m) continue;
      const name = m[1];
      const master = / master (\S+) /.exec(line)?.[1];
      if (this.bridges.has(name) || (master && this.bridges.has(master))) out.push(master ? `${name} master ${master}` : name);
    }
    return out.sort();
  }

  /** Veth names (host side) attached to one bridge. */
  vethsOn(bridge: string): string[] {
    return this.links().filter((l) => l.endsWith(` master ${bridge}`)).map((l) => l.split(' ')[0]);
  }

  netns(): string[] {
    const dir = path.join(this.d.runRoot, 'netns');
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  }

  /** The lease store: one sandbox record per running container, holding its addresses and host ports. */
  leases(): string[] {
    const dir = path.join(this.d.dataRoot, 'networks/sandboxes');
    const out: string[] = [];
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : []) {
      const s = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as SandboxRecord;
      out.push(`${s.containerId.slice(0, 12)} ${s.attachments.map((a) => `${a.networkName}=${a.ip}`).join(',')} ${s.ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.proto}`).join(',')}`);
    }
    return out;
  }

  /** aardvark-dns's entries (one file per user network; a line per container). */
  dns(): string[] {
    const dir = path.join(this.d.runRoot, 'netavark/aardvark-dns');
    const out: string[] = [];
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
      const p = path.join(dir, f);
      if (!fs.statSync(p).isFile()) continue;
      for (const line of fs.readFileSync(p, 'utf8').split('\n').slice(1).filter(Boolean)) out.push(`${f.slice(0, 12)} ${line}`);
    }
    return out.sort();
  }

  /**
   * The leftovers once things have settled: what is still there after `ms` (a removal that was already under way,
   * an auto-removal, may finish a moment after the client's call returns; a leak stays).
   */
  async settledLeftovers(ms = 10_000): Promise<string[]> {
    let left = this.leftovers();
    for (const until = Date.now() + ms; left.length && Date.now() < until; left = this.leftovers()) await new Promise((r) => setTimeout(r, 250));
    return left;
  }

  /**
   * The snapshot once it equals `expected`, or the last one after `ms`: a stopped or removed container's veth and
   * namespace are deleted just after the answer (decision 19), so a leak is what is still there after a while.
   */
  async settledSnapshot(expected: NetSnapshot, ms = 10_000): Promise<NetSnapshot> {
    let s = this.snapshot();
    for (const until = Date.now() + ms; !isDeepStrictEqual(s, expected) && Date.now() < until; s = this.snapshot()) await new Promise((r) => setTimeout(r, 250));
    return s;
  }

  /** Everything at once, for before/after comparisons. */
  snapshot(): NetSnapshot {
    return { links: this.links(), rules: this.rules(), netns: this.netns(), leases: this.leases(), dns: this.dns() };
  }

  /** A rule of the default bridge's own (forwarding, isolation, NAT), not a container's (no port chain, DNAT or port). */
  private defaultBridgeOwn(rule: string): boolean {
    const b = this.d.bridge.replace(/\./g, '\\.');
    return new RegExp(`(-i|-o) ${b}( |$)|BERTH-[FDN]-${b}( |$)`).test(rule) && !/BERTH-P-|--to-destination|--dport/.test(rule);
  }

  /** What is left once every container is gone (and with `networksGone` every user network): should be empty. */
  leftovers(): string[] {
    const s = this.snapshot();
    // The default bridge itself (not its ports) and its network-wide rules are the daemon's for its life, as docker0
    // and its rules are dockerd's (decision 19).
    return [...s.links.filter((l) => l !== this.d.bridge).map((l) => `link ${l}`),
      ...s.rules.filter((r) => !this.defaultBridgeOwn(r)).map((r) => `rule ${r}`), ...s.netns.map((n) => `netns ${n}`),
      ...s.leases.map((l) => `lease ${l}`), ...s.dns.map((e) => `dns ${e}`)];
  }
}

/** The first "A.B.C" of a /24 under `prefix16` ("10.213", outside Berth's default pool), from `seed` on, that the host does not route. */
export function unroutedSubnet(prefix16: string, seed: number): string {
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  for (let i = 0; i < 256; i++) {
    const third = (seed + i) % 256;
    if (!routes.includes(`${prefix16}.${third}.`)) return `${prefix16}.${third}`;
  }
  throw new Error(`no free ${prefix16}.x.0/24`);
}
