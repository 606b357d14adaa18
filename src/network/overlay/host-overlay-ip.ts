// OverlayHost over iproute2: reads the bridge, VXLAN device, fdb and neighbour entries as they are (`ip -j`,
// `bridge -j`) and sends only the differences, as one `-batch -` per tool, since the node calls it on every task change.
import { createHash } from 'node:crypto';
import { parseRouteDst } from '../addresses';
import { macForIp, type OverlayHost, type OverlayLink, type OverlayPeer } from './host-overlay';
import { iproute2, type Iproute2 } from './iproute2';

/** One link as `ip -d -j addr show` prints it (the fields read here). */
export interface IpLinkJson {
  ifname: string;
  /** The interface's alias: Berth writes its owner tag there (which daemon made the device). */
  ifalias?: string;
  flags?: string[];
  mtu?: number;
  address?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; local?: string; port?: number; learning?: boolean; proxy?: boolean; remote?: string; group?: string };
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
  };
  addr_info?: { family?: string; local?: string; prefixlen?: number; secondary?: boolean }[];
}

/** One entry of `bridge -j fdb show dev <vx>`. */
export interface FdbJson { mac: string; dst?: string; flags?: string[]; master?: string }
/** One entry of `ip -j neigh show dev <vx>`. */
export interface NeighJson { dst: string; lladdr?: string; state?: string[] }

export class IprouteOverlayHost implements OverlayHost {
  private readonly ip: Iproute2;

  /**
   * `tools`: iproute2() in berthd's namespace; tests pass iproute2({ netns }). `owner`: a tag this daemon writes in
   * its devices' alias, so present() lists only its own when several daemons share a namespace (test daemons).
   */
  constructor(tools: Iproute2 = iproute2(), private readonly owner?: string) { this.ip = tools; }

  async ensure(link: OverlayLink, extraAddrs: string[]): Promise<void> {
    const links = parseLinks(await this.ip.run('ip', ['-d', '-j', 'addr', 'show']));
    const lines = linkBatch(links, link, extraAddrs, this.owner);
    // Containers' traffic to the routing mesh and VIPs is routed through this host; netavark turns this on for its
    // own bridges too, but an overlay can be made before any container of it runs here.
    if (!links.some((l) => l.ifname === link.bridge)) await this.ip.sysctl('net.ipv4.ip_forward', '1');
    await this.ip.batch('ip', lines);
  }

  async setPeers(link: OverlayLink, peers: OverlayPeer[]): Promise<void> {
    if (link.solo) return; // no VXLAN device, no other node
    const [fdb, neigh] = await Promise.all([
      this.ip.run('bridge', ['-j', 'fdb', 'show', 'dev', link.vxlan]),
      this.ip.run('ip', ['-j', 'neigh', 'show', 'dev', link.vxlan]),
    ]);
    const plan = peerBatches(parseJson<FdbJson>(fdb), parseJson<NeighJson>(neigh), link, peers);
    await Promise.all([this.ip.batch('bridge', plan.bridge), this.ip.batch('ip', plan.ip)]);
  }

  async detach(link: OverlayLink): Promise<void> {
    await this.deleteLinks([link.vxlan]);
  }

  async remove(link: OverlayLink): Promise<void> {
    await this.deleteLinks([link.vxlan, link.bridge]);
  }

  async present(): Promise<string[]> {
    const links = parseJson<IpLinkJson>(await this.ip.run('ip', ['-j', 'link', 'show']));
    const ids = new Set<string>();
    for (const l of links) {
      if (this.owner && l.ifalias !== this.owner) continue;
      // Swarm IDs are base 36.
      const m = /^(?:bo|vx)-([0-9a-z]{12})$/.exec(l.ifname);
      if (m) ids.add(m[1]!);
    }
    return [...ids];
  }

  /** Deletes those of `names` that exist (read first: a batch stops at its first failing line). */
  private async deleteLinks(names: string[]): Promise<void> {
    const links = parseJson<IpLinkJson>(await this.ip.run('ip', ['-j', 'link', 'show']));
    const present = new Set(links.map((l) => l.ifname));
    await this.ip.batch('ip', names.filter((n) => present.has(n)).map((n) => `link del dev ${n}`));
  }
}

export function parseLinks(text: string): IpLinkJson[] { return parseJson<IpLinkJson>(text); }

function parseJson<T>(text: string): T[] {
  return text.trim() ? (JSON.parse(text) as T[]) : [];
}

/**
 * The bridge's MAC, fixed so that it never changes as ports come and go (decision 0013, bug 3), and different on
 * every node: frames the host sends into the overlay (the mesh's SNATed packets) carry it, and replies come back to
 * the MAC the other nodes know for this node's load-balancer address — macForIp of it, as for every endpoint. Hence
 * macForIp(load-balancer address) (the extra address in the gateway's subnet); before the node has one, a MAC from
 * the network ID and this node's underlay address (locally administered, outside 02:42:…).
 */
export function bridgeMac(link: OverlayLink, extraAddrs: string[]): string {
  const lb = extraAddrs.find((a) => sameSubnet(a, link.gateway));
  if (lb) return macForIp(lb.split('/')[0]!);
  const h = createHash('sha256').update(`${link.networkId} ${link.localAddr}`).digest();
  return ['06', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The bridge's IPv4 addresses in the order they must be added: in the gateway's subnet the load-balancer address first,
 * so it is the primary one: the host's own packets into the overlay leave from it and the replies come back to this
 * node (the gateway is the same on every node: a reply to it would stay on the replier's node).
 */
export function desiredAddrs(link: OverlayLink, extraAddrs: string[]): string[] {
  const norm = (a: string) => (a.includes('/') ? a : `${a}/32`);
  const extras = [...new Set(extraAddrs.map(norm))].filter((a) => a !== link.gateway);
  return [...extras.filter((a) => sameSubnet(a, link.gateway)), link.gateway, ...extras.filter((a) => !sameSubnet(a, link.gateway))];
}

/** `ip -batch` lines that make the links of `link` as asked, from the links as they are. */
export function linkBatch(links: IpLinkJson[], link: OverlayLink, extraAddrs: string[], owner?: string): string[] {
  const out: string[] = [];
  const mac = bridgeMac(link, extraAddrs);
  const br = links.find((l) => l.ifname === link.bridge);
  let vx = links.find((l) => l.ifname === link.vxlan);

  if (!br) {
    out.push(`link add name ${link.bridge} address ${mac} mtu ${link.mtu} type bridge`);
    // Tagged at once: should a later line fail, the next start-up still knows the bridge for this daemon's.
    if (owner) out.push(`link set dev ${link.bridge} alias ${owner}`);
  } else {
    if (owner && br.ifalias !== owner) out.push(`link set dev ${link.bridge} alias ${owner}`);
    if (br.linkinfo?.info_kind !== 'bridge') throw new Error(`${link.bridge} exists and is not a bridge`);
    if (br.mtu !== link.mtu) out.push(`link set dev ${link.bridge} mtu ${link.mtu}`);
    if (br.address?.toLowerCase() !== mac) out.push(`link set dev ${link.bridge} address ${mac}`);
  }

  if (link.solo) {
    if (vx) out.push(`link del dev ${link.vxlan}`);
  } else if (vx && !vxlanMatches(vx, link)) {
    // A VXLAN's identity (VNI, local end, port) cannot be changed in place.
    out.push(`link del dev ${link.vxlan}`);
    vx = undefined;
  }
  if (link.solo) {
    // no VXLAN device
  } else if (!vx) {
    out.push(`link add name ${link.vxlan} mtu ${link.mtu} type vxlan id ${link.vni} local ${link.localAddr} dstport ${link.port} nolearning proxy`);
    if (owner) out.push(`link set dev ${link.vxlan} alias ${owner}`);
    out.push(`link set dev ${link.vxlan} master ${link.bridge} up`);
  } else {
    if (vx.mtu !== link.mtu) out.push(`link set dev ${link.vxlan} mtu ${link.mtu}`);
    if (vx.master !== link.bridge || !vx.flags?.includes('UP')) out.push(`link set dev ${link.vxlan} master ${link.bridge} up`);
  }
  if (!br?.flags?.includes('UP')) out.push(`link set dev ${link.bridge} up`);
  // Containers' ports (netavark's veths) in hairpin mode: a connection to a VIP that the mesh sends back to the
  // container that made it leaves the bridge through the port it came in by, which the bridge refuses otherwise
  // when br_netfilter hands the DNATed frame back to it (the SYN was dropped; a retry a second later chose again).
  for (const port of links) {
    if (port.master === link.bridge && port.ifname !== link.vxlan && port.linkinfo?.info_slave_kind === 'bridge' && port.linkinfo.info_slave_data?.hairpin === false) {
      out.push(`link set dev ${port.ifname} type bridge_slave hairpin on`);
    }
  }

  if (owner && vx && !link.solo && vx.ifalias !== owner) out.push(`link set dev ${link.vxlan} alias ${owner}`);
  out.push(...addressLines(br, link, desiredAddrs(link, extraAddrs)));
  return out;
}

function vxlanMatches(vx: IpLinkJson, link: OverlayLink): boolean {
  const d = vx.linkinfo?.info_data;
  return vx.linkinfo?.info_kind === 'vxlan' && !!d && d.id === link.vni && d.local === link.localAddr && d.port === link.port
    && d.learning === false && d.proxy === true && !d.remote && !d.group;
}

/**
 * Address changes on the bridge: the bridge is Berth's own, so its IPv4 addresses are exactly `want` (IPv6 link-local
 * addresses are the kernel's and left alone). When the gateway's subnet does not have the wanted primary address,
 * that subnet's addresses are removed and added again in order: removing a primary removes its secondaries with it.
 */
function addressLines(br: IpLinkJson | undefined, link: OverlayLink, want: string[]): string[] {
  const have = (br?.addr_info ?? []).filter((a) => a.family === 'inet' && a.local)
    .map((a) => ({ cidr: `${a.local}/${a.prefixlen ?? 32}`, secondary: !!a.secondary }));
  const dev = link.bridge;
  const wantSet = new Set(want);
  const out: string[] = [];
  const primaryWanted = want[0]!;
  const subnetHave = have.filter((a) => sameSubnet(a.cidr, link.gateway));
  const reorder = subnetHave.length > 0 && !subnetHave.some((a) => a.cidr === primaryWanted && !a.secondary);
  // Secondaries before primaries: deleting a primary first would take the secondaries with it and fail the batch.
  const dels = have.filter((a) => !wantSet.has(a.cidr) || (reorder && sameSubnet(a.cidr, link.gateway)))
    .sort((a, b) => Number(b.secondary) - Number(a.secondary));
  for (const a of dels) out.push(`address del ${a.cidr} dev ${dev}`);
  const kept = new Set(have.filter((a) => !dels.includes(a)).map((a) => a.cidr));
  for (const a of want) if (!kept.has(a)) out.push(`address add ${a} dev ${dev}`);
  return out;
}

/** `bridge -batch` and `ip -batch` lines that make the VXLAN's fdb and neighbour entries exactly `peers`. */
export function peerBatches(fdb: FdbJson[], neigh: NeighJson[], link: OverlayLink, peers: OverlayPeer[]): { bridge: string[]; ip: string[] } {
  const dev = link.vxlan;
  const wantFdb = new Map(peers.map((p) => [p.mac.toLowerCase(), p.nodeAddr]));
  const wantNeigh = new Map(peers.map((p) => [p.ip, p.mac.toLowerCase()]));
  const bridge: string[] = [];
  const ip: string[] = [];

  // The VXLAN's own entries (`self`, with a remote end); the bridge's entries of the port (`master`) are not ours.
  const haveFdb = fdb.filter((e) => !e.master && e.dst && (e.flags ?? []).includes('self'));
  const good = new Set<string>();
  for (const e of haveFdb) {
    const mac = e.mac.toLowerCase();
    // An all-zeros entry would flood unknown and broadcast frames to that node: never wanted.
    if (wantFdb.get(mac) === e.dst && !good.has(mac)) good.add(mac);
    else bridge.push(`fdb del ${mac} dev ${dev} dst ${e.dst} self`);
  }
  for (const [mac, dst] of wantFdb) if (!good.has(mac)) bridge.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);

  const haveNeigh = new Map(neigh.filter((n) => n.dst).map((n) => [n.dst, n]));
  for (const addr of haveNeigh.keys()) if (!wantNeigh.has(addr)) ip.push(`neigh del ${addr} dev ${dev}`);
  for (const [addr, mac] of wantNeigh) {
    const n = haveNeigh.get(addr);
    if (n?.lladdr?.toLowerCase() === mac && (n.state ?? []).includes('PERMANENT')) continue;
    ip.push(`neigh replace ${addr} lladdr ${mac} dev ${dev} nud permanent`);
  }
  return { bridge, ip };
}

/** Whether CIDR `a` has `b`'s prefix length and its address falls in `b`'s subnet (the load-balancer address, not a /32 VIP). */
function sameSubnet(a: string, b: string): boolean {
  const sa = parseRouteDst(a);
  const sb = parseRouteDst(b);
  return !!sa && !!sb && sa.prefix === sb.prefix && sa.base === sb.base;
}
