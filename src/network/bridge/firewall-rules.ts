// The bridge networks' packet filter rendered as iptables-restore --noflush documents, one per address family: pure
// functions of the network, the container's ports and what iptables-save shows, so every rule is unit-tested here
// and the adapter (iptables-firewall.ts) only runs the tools.
//
// Layout (the same for iptables and ip6tables; <br> is the bridge, unique on the host, so several berthd, dockerd,
// netavark and the swarm mesh share the tables without touching each other's rules):
//   filter FORWARD -> BERTH-FORWARD: first `-j BERTH-ISOLATION-1`, then one `-j BERTH-F-<br>` per network.
//     BERTH-ISOLATION-1: per isolated network `-i br ! -o br -j BERTH-ISOLATION-2`; BERTH-ISOLATION-2: `-o br -j DROP`
//     (Docker's two stages: what leaves one isolated bridge is dropped when it enters another).
//     BERTH-F-<br>: accepts what leaves the bridge, the replies back in and DNATed connections in, so the network
//     works under a FORWARD policy DROP (dockerd's); internal: only bridge to bridge, everything else dropped.
//   nat PREROUTING, OUTPUT (`-m addrtype --dst-type LOCAL`) -> BERTH-DNAT: one `-j BERTH-D-<br>` per network, which
//     holds one jump per container with published ports to BERTH-P-<id12>-<hash of br> (its DNAT rules). A
//     container's ports are thus one chain: publishing flushes and refills it, unpublishing flushes and deletes it.
//   nat POSTROUTING -> BERTH-POSTROUTING: one `-j BERTH-N-<br>` per network: masquerade of the subnet leaving by any
//     other interface (not multicast), and of DNATed connections from the subnet itself (hairpin: a container
//     reaching its own or a neighbour's published port through a host address) or from 127.0.0.0/8 (a 127.0.0.1
//     publication, routed thanks to route_localnet). Conntrack's DNAT state marks those connections, so no packet
//     mark is needed and none can collide with netavark's 0x2000 or dockerd's.
//   Internal networks get no nat chains at all: nothing is masqueraded and nothing published.
//   raw PREROUTING: per IPv4 network `-d 127.0.0.0/8 -i <br> -j DROP`. A 127.0.0.1 publication needs route_localnet on
//     the bridge, which also lets a container (NET_RAW is a default capability) send packets for 127.0.0.1 through
//     it and reach whatever the host serves on loopback: etcd, a registry, databases (CVE-2020-8558 in Kubernetes).
//     No legitimate packet enters a bridge for 127/8 (replies to a 127.0.0.1 client come back to the masqueraded
//     gateway address), so the line is there whether route_localnet is on yet or not.
// Declaring a chain (`:CHAIN - [0:0]`) in a --noflush restore creates or flushes it, so chains owned by one network
// are rewritten whole; lines in the shared chains are added or deleted after reading iptables-save, so each exists once.
// Shared chains are never declared: another berthd in the same namespace (test daemons, a bench beside production) may
// have made one or added its lines since the reading. They are made with `-N` and removed with a bare `-X`, which fail
// the whole restore when the tables moved on; the adapter then plans again from a new reading.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { InvalidParameterError } from '../../errdefs';
import { createChain, declareChain, deleteLine } from '../iptables-restore';
import type { NetavarkPortMapping } from '../netavark';
import type { BridgeNetworkSpec, PublishedPorts } from './contract';

export type Family = 4 | 6;
type Table = 'filter' | 'nat' | 'raw';

/** The chains every network shares (made by the first network, removed with the last). */
export const BASE_CHAINS = {
  forward: 'BERTH-FORWARD', isolation1: 'BERTH-ISOLATION-1', isolation2: 'BERTH-ISOLATION-2',
  dnat: 'BERTH-DNAT', postrouting: 'BERTH-POSTROUTING',
} as const;

/** The raw table's guard of a bridge against packets for the host's loopback (in iptables-save's own form). */
const loopbackGuard = (br: string): string => `-A PREROUTING -d 127.0.0.0/8 -i ${br} -j DROP`;

const BUILTIN_JUMPS: Record<'filter' | 'nat', readonly string[]> = {
  filter: [`-A FORWARD -j ${BASE_CHAINS.forward}`],
  nat: [
    `-A PREROUTING -m addrtype --dst-type LOCAL -j ${BASE_CHAINS.dnat}`,
    `-A OUTPUT -m addrtype --dst-type LOCAL -j ${BASE_CHAINS.dnat}`,
    `-A POSTROUTING -j ${BASE_CHAINS.postrouting}`,
  ],
};

/** A network's own chains (≤ 23 characters: bridge names have at most 15). */
export function networkChains(bridge: string): { forward: string; dnat: string; nat: string } {
  return { forward: `BERTH-F-${bridge}`, dnat: `BERTH-D-${bridge}`, nat: `BERTH-N-${bridge}` };
}

/** A container's DNAT chain on one network: its ID for the reader, the bridge's hash since it may be on several. */
export function portChain(bridge: string, containerId: string): string {
  return `BERTH-P-${containerId.slice(0, 12)}-${bridgeHash(bridge)}`;
}

const bridgeHash = (bridge: string): string => createHash('sha256').update(bridge).digest('hex').slice(0, 6);

/** The families a network has subnets in. */
export function familiesOf(n: BridgeNetworkSpec): Family[] {
  const out = new Set<Family>();
  for (const s of n.subnets) out.add(isIP(s.subnet.split('/')[0]!) === 6 ? 6 : 4);
  return [...out].sort();
}

/** What one family's iptables-save shows of the nat and filter tables. */
export interface FirewallPresence {
  chains: Record<Table, Set<string>>;
  /** The `-A` lines of every chain, by chain. */
  rules: Record<Table, Map<string, string[]>>;
}

export function parsePresence(save: string): FirewallPresence {
  const out: FirewallPresence = {
    chains: { filter: new Set(), nat: new Set(), raw: new Set() }, rules: { filter: new Map(), nat: new Map(), raw: new Map() },
  };
  let table: string | undefined;
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (table !== 'nat' && table !== 'filter' && table !== 'raw') continue;
    if (line.startsWith(':')) out.chains[table].add(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      const list = out.rules[table].get(chain) ?? [];
      list.push(line);
      out.rules[table].set(chain, list);
    }
  }
  return out;
}

/** How many jumps from the network's BERTH-D-<br> each container chain has (what publish and unpublish need). */
export function portJumps(present: FirewallPresence, bridge: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of present.rules.nat.get(networkChains(bridge).dnat) ?? []) {
    const target = /^-A \S+ -j (BERTH-P-\S+)$/.exec(line)?.[1];
    if (target) out.set(target, (out.get(target) ?? 0) + 1);
  }
  return out;
}

/** The bridges that have chains or a loopback guard of this layout in `present` (every berthd's on the host: reconcile filters them). */
export function bridgesIn(present: FirewallPresence): Set<string> {
  const out = new Set<string>();
  for (const table of ['filter', 'nat'] as const) {
    for (const chain of present.chains[table]) {
      const m = /^BERTH-[FDN]-(.+)$/.exec(chain);
      if (m) out.add(m[1]!);
    }
  }
  for (const line of present.rules.raw.get('PREROUTING') ?? []) {
    const m = /^-A PREROUTING -d 127\.0\.0\.0\/8 -i (\S+) -j DROP$/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** The document making network `n`'s rules of one family (its own chains rewritten, shared lines made single). */
export function renderEnsureNetwork(n: BridgeNetworkSpec, family: Family, present: FirewallPresence): string {
  checkNetwork(n);
  const own = networkChains(n.bridge);
  const br = n.bridge;
  const subnets = n.subnets.map((s) => s.subnet).filter((s) => isIP(s.split('/')[0]!) === family);

  const filter = new TableDoc('filter', present);
  filter.declareShared(BASE_CHAINS.forward, BASE_CHAINS.isolation1, BASE_CHAINS.isolation2);
  filter.declareOwn(own.forward);
  filter.single(`-A ${BASE_CHAINS.forward} -j ${BASE_CHAINS.isolation1}`, 'first');
  filter.single(`-A ${BASE_CHAINS.forward} -j ${own.forward}`, 'last');
  const isolation = isolationLines(br);
  for (const line of isolation) n.isolate ? filter.single(line, 'last') : filter.absent(line);
  if (n.internal) {
    filter.add(`-A ${own.forward} -i ${br} -o ${br} -j ACCEPT`, `-A ${own.forward} -i ${br} -j DROP`, `-A ${own.forward} -o ${br} -j DROP`);
  } else {
    filter.add(
      `-A ${own.forward} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-A ${own.forward} -o ${br} -m conntrack --ctstate DNAT -j ACCEPT`,
      `-A ${own.forward} -i ${br} -j ACCEPT`,
    );
  }
  for (const jump of BUILTIN_JUMPS.filter) filter.single(jump, 'first');
  if (n.internal) return filter.render() + '\n';

  const nat = new TableDoc('nat', present);
  nat.declareShared(BASE_CHAINS.dnat, BASE_CHAINS.postrouting, own.dnat); // BERTH-D-<br> holds the containers' jumps
  nat.declareOwn(own.nat);
  nat.single(`-A ${BASE_CHAINS.dnat} -j ${own.dnat}`, 'last');
  nat.single(`-A ${BASE_CHAINS.postrouting} -j ${own.nat}`, 'last');
  if (family === 4) nat.add(`-A ${own.nat} -s 127.0.0.0/8 -o ${br} -m conntrack --ctstate DNAT -j MASQUERADE`);
  const multicast = family === 4 ? '224.0.0.0/4' : 'ff00::/8';
  for (const s of subnets) {
    nat.add(`-A ${own.nat} -s ${s} -o ${br} -m conntrack --ctstate DNAT -j MASQUERADE`);
    nat.add(`-A ${own.nat} -s ${s} ! -o ${br} ! -d ${multicast} -j MASQUERADE`);
  }
  for (const jump of BUILTIN_JUMPS.nat) nat.single(jump, 'first');
  if (family === 6) return [filter.render(), nat.render(), ''].join('\n');
  const raw = new TableDoc('raw', present);
  raw.single(loopbackGuard(br), 'first');
  return [filter.render(), nat.render(), raw.render(), ''].filter((t, i, all) => t !== '' || i === all.length - 1).join('\n');
}

/**
 * The document removing every rule of the given networks (their chains, their containers' chains, their lines in
 * the shared chains), and the shared chains and jumps too when no network is left in them. Empty: nothing to do.
 */
export function renderRemoveNetworks(bridges: Iterable<string>, present: FirewallPresence): string {
  const filter = new TableDoc('filter', present);
  const nat = new TableDoc('nat', present);
  const raw = new TableDoc('raw', present);
  for (const br of bridges) {
    const own = networkChains(br);
    raw.absent(loopbackGuard(br));
    filter.removeChain(own.forward);
    for (const line of isolationLines(br)) filter.absent(line);
    const ports = [...present.chains.nat].filter((c) => c.startsWith('BERTH-P-') && c.endsWith(`-${bridgeHash(br)}`));
    for (const chain of [own.dnat, own.nat, ...ports]) nat.removeChain(chain);
  }
  const forwardLeft = filter.remaining(BASE_CHAINS.forward).filter((l) => l !== `-A ${BASE_CHAINS.forward} -j ${BASE_CHAINS.isolation1}`);
  if (forwardLeft.length + filter.remaining(BASE_CHAINS.isolation1).length + filter.remaining(BASE_CHAINS.isolation2).length === 0) {
    for (const jump of BUILTIN_JUMPS.filter) filter.absent(jump);
    for (const line of filter.remaining(BASE_CHAINS.forward)) filter.absent(line); // the jump to ISOLATION-1
    for (const c of [BASE_CHAINS.forward, BASE_CHAINS.isolation1, BASE_CHAINS.isolation2]) filter.removeSharedChain(c);
  }
  if (nat.remaining(BASE_CHAINS.dnat).length + nat.remaining(BASE_CHAINS.postrouting).length === 0) {
    for (const jump of BUILTIN_JUMPS.nat) nat.absent(jump);
    for (const c of [BASE_CHAINS.dnat, BASE_CHAINS.postrouting]) nat.removeSharedChain(c);
  }
  const parts = [filter.render(), nat.render(), raw.render()].filter((t) => t !== '');
  return parts.length ? [...parts, ''].join('\n') : '';
}

/**
 * The document setting one container's published ports in one family: its chain refilled, and the jump to it added
 * when `jumps` (how many there are, from portJumps) is 0. Empty when the container has nothing in this family and
 * no chain; ports that moved away from this family are unpublished.
 */
export function renderPublish(n: BridgeNetworkSpec, p: PublishedPorts, family: Family, jumps: number | undefined): string {
  checkNetwork(n);
  checkPorts(p);
  const chain = portChain(n.bridge, p.containerId);
  const rules = dnatRules(chain, n, p, family);
  if (rules.length === 0) return renderUnpublish(n, p.containerId, jumps);
  const jump = (jumps ?? 0) > 0 ? [] : [`-A ${networkChains(n.bridge).dnat} -j ${chain}`];
  return ['*nat', declareChain(chain), ...rules, ...jump, 'COMMIT', ''].join('\n');
}

/** The document removing a container's chain and its jumps; `jumps` undefined: the chain does not exist (empty doc). */
export function renderUnpublish(n: BridgeNetworkSpec, containerId: string, jumps: number | undefined): string {
  checkNetwork(n);
  checkId(containerId);
  if (jumps === undefined) return '';
  const chain = portChain(n.bridge, containerId);
  const deletes = Array.from({ length: jumps }, () => `-D ${networkChains(n.bridge).dnat} -j ${chain}`);
  return ['*nat', declareChain(chain), ...deletes, `-X ${chain}`, 'COMMIT', ''].join('\n');
}

/** Whether route_localnet must be on for the bridge: an IPv4 publication reachable at 127.0.0.1. */
export function needsRouteLocalnet(p: PublishedPorts): boolean {
  return p.ipv4 !== undefined && p.ports.some((m) => anyAddress(m.host_ip) || (isIP(m.host_ip) === 4 && m.host_ip.startsWith('127.')));
}

/** Whether the container has a DNAT rule in this family (publish then keeps its chain, else removes it). */
export function publishesIn(n: BridgeNetworkSpec, p: PublishedPorts, family: Family): boolean {
  return dnatRules('', n, p, family).length > 0;
}

function dnatRules(chain: string, n: BridgeNetworkSpec, p: PublishedPorts, family: Family): string[] {
  const address = family === 4 ? p.ipv4 : p.ipv6;
  if (n.internal || !address) return [];
  const out: string[] = [];
  const host = (m: NetavarkPortMapping) => (anyAddress(m.host_ip) ? '' : `-d ${m.host_ip}/${family === 4 ? 32 : 128} `);
  const to = (port?: number) => (port === undefined ? address : family === 4 ? `${address}:${port}` : `[${address}]:${port}`);
  for (const m of p.ports) {
    if (!anyAddress(m.host_ip) && isIP(m.host_ip) !== family) continue;
    const range = Math.max(1, m.range);
    const match = `-A ${chain} ${host(m)}-p ${m.protocol} -m ${m.protocol} --dport`;
    if (range > 1 && m.host_port === m.container_port) {
      // Same numbers on both sides: one rule, the destination port kept.
      out.push(`${match} ${m.host_port}:${m.host_port + range - 1} -j DNAT --to-destination ${to()}`);
      continue;
    }
    // Otherwise one rule per port: a DNAT to a port range picks any port of it, it does not shift.
    for (let i = 0; i < range; i++) out.push(`${match} ${m.host_port + i} -j DNAT --to-destination ${to(m.container_port + i)}`);
  }
  return out;
}

const anyAddress = (hostIp: string): boolean => hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::';

const isolationLines = (br: string): string[] => [
  `-A ${BASE_CHAINS.isolation1} -i ${br} ! -o ${br} -j ${BASE_CHAINS.isolation2}`,
  `-A ${BASE_CHAINS.isolation2} -o ${br} -j DROP`,
];

/**
 * One table's part of a document: declarations first (a rule may jump to any chain), then deletions, additions and
 * chain removals. Deletions are rendered last-minute so none targets a chain the same document flushes.
 */
class TableDoc {
  private readonly declarations: string[] = [];
  private readonly additions: string[] = [];
  private readonly deletions: string[] = [];
  private readonly deleted = new Set<string>();
  private readonly removedChains: string[] = [];
  private readonly removedShared: string[] = [];

  constructor(private readonly table: Table, private readonly present: FirewallPresence) {}

  /** Created when absent (`-N`: never a flush of lines another daemon added since the reading), left as they are otherwise. */
  declareShared(...chains: string[]): void {
    for (const c of chains) if (!this.present.chains[this.table].has(c)) this.declarations.push(createChain(c));
  }

  /** Created or flushed: the caller rewrites them whole. */
  declareOwn(...chains: string[]): void {
    this.declarations.push(...chains.map(declareChain));
  }

  add(...lines: string[]): void {
    this.additions.push(...lines);
  }

  /** `line` exactly once in its chain: added (at the top or the end) when missing, extra copies deleted. */
  single(line: string, where: 'first' | 'last'): void {
    const copies = this.copies(line);
    if (copies === 0) this.additions.push(where === 'first' ? line.replace(/^-A (\S+) /, '-I $1 1 ') : line);
    for (let i = 1; i < copies; i++) this.deletions.push(line);
  }

  /** Every copy of `line` deleted. */
  absent(line: string): void {
    if (this.deleted.has(line)) return;
    this.deleted.add(line);
    for (let i = 0; i < this.copies(line); i++) this.deletions.push(line);
  }

  /** When present: the chain flushed, every rule jumping to it deleted, then the chain deleted. */
  removeChain(chain: string): void {
    if (!this.present.chains[this.table].has(chain) || this.removedChains.includes(chain)) return;
    this.removedChains.push(chain);
    this.declarations.push(declareChain(chain));
    this.jumpsTo(chain);
  }

  /**
   * A shared chain whose lines this document deletes (remaining() is empty): deleted without a flush, so the restore
   * fails, and is planned again, if another daemon added a line to it since the reading.
   */
  removeSharedChain(chain: string): void {
    if (!this.present.chains[this.table].has(chain) || this.removedShared.includes(chain)) return;
    this.removedShared.push(chain);
    this.jumpsTo(chain);
  }

  private jumpsTo(chain: string): void {
    for (const lines of this.present.rules[this.table].values()) {
      for (const line of lines) if (line.endsWith(` -j ${chain}`)) this.absent(line);
    }
  }

  /** The rules of `chain` that this document leaves in place. */
  remaining(chain: string): string[] {
    if (this.removedChains.includes(chain)) return [];
    return (this.present.rules[this.table].get(chain) ?? []).filter((l) => !this.deleted.has(l));
  }

  private copies(line: string): number {
    return (this.present.rules[this.table].get(chainOf(line)) ?? []).filter((l) => l === line).length;
  }

  render(): string {
    const deletions = this.deletions.filter((l) => !this.removedChains.includes(chainOf(l))).map(deleteLine);
    const removed = [...this.removedChains, ...this.removedShared];
    const body = [...this.declarations, ...deletions, ...this.additions, ...removed.map((c) => `-X ${c}`)];
    return body.length === 0 ? '' : [`*${this.table}`, ...body, 'COMMIT'].join('\n');
  }
}

const chainOf = (line: string): string => line.split(' ')[1]!;

/** Throws InvalidParameterError for what would make a restore fail or inject options into it. */
function checkNetwork(n: BridgeNetworkSpec): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n.bridge)) throw new InvalidParameterError(`bridge firewall: invalid bridge name ${JSON.stringify(n.bridge)}`);
  for (const s of n.subnets) {
    const [addr, bits, extra] = s.subnet.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || !/^\d{1,3}$/.test(bits ?? '') || Number(bits) > max) {
      throw new InvalidParameterError(`bridge firewall: invalid subnet ${JSON.stringify(s.subnet)}`);
    }
  }
}

function checkId(id: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new InvalidParameterError(`bridge firewall: invalid container ID ${JSON.stringify(id)}`);
}

function checkPorts(p: PublishedPorts): void {
  checkId(p.containerId);
  if (p.ipv4 !== undefined && isIP(p.ipv4) !== 4) throw new InvalidParameterError(`bridge firewall: invalid IPv4 address ${JSON.stringify(p.ipv4)}`);
  if (p.ipv6 !== undefined && isIP(p.ipv6) !== 6) throw new InvalidParameterError(`bridge firewall: invalid IPv6 address ${JSON.stringify(p.ipv6)}`);
  for (const m of p.ports) {
    if (!['tcp', 'udp', 'sctp'].includes(m.protocol)) throw new InvalidParameterError(`bridge firewall: invalid protocol ${JSON.stringify(m.protocol)}`);
    if (m.host_ip !== '' && !isIP(m.host_ip)) throw new InvalidParameterError(`bridge firewall: invalid host IP ${JSON.stringify(m.host_ip)}`);
    const range = Math.max(1, m.range);
    for (const port of [m.host_port, m.container_port]) {
      if (!Number.isInteger(port) || !Number.isInteger(range) || port < 1 || port + range - 1 > 65535) {
        throw new InvalidParameterError(`bridge firewall: invalid port ${port} (range ${m.range})`);
      }
    }
  }
}
