// The interfaces of Berth's bridge driver (decision 19): the bridge itself and one veth pair per endpoint, as
// `ip -batch` lines built here (pure, so the unit tests read them) and run by links-iproute.ts: one `ip` in the
// container's namespace per endpoint (the one that makes the namespace, for a container's first), and one on the host
// only when the bridge is new to the daemon or changed, where netavark spent a process per step.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { BridgeNetworkSpec } from './contract';

/** One container's interface on a bridge network. */
export interface BridgeEndpoint {
  /**
   * The container's network namespace file (a path nsenter and unshare take): a namespace, or an empty file reserved
   * for it (NetnsManager.reserve), on which attach makes the namespace.
   */
  netns: string;
  /** The interface in the namespace (eth0, eth1...). */
  ifname: string;
  /** The veth's host end, a port of the bridge (hostVethName). */
  hostIfname: string;
  mac: string;
  /**
   * Announce the address when the interface comes up (arp_notify, as netavark set it): needed when the MAC is not
   * derived from the address (a static MAC), since neighbours may have cached another MAC for a reused address.
   */
  announce: boolean;
  /** The container's addresses with their prefix ("10.210.0.5/24", "fd00::5/64"). */
  addresses: string[];
  /** Default routes via these (none on an internal network). */
  gateways: string[];
}

/** What the host has of a bridge now, read before its lines are built. */
export interface BridgeState {
  exists: boolean;
  /** The MAC was set from user space (addr_assign_type 3), so the kernel never changes it. */
  macPinned: boolean;
  /** Its MAC now (when it exists). */
  mac?: string;
}

/** The Linux side of the bridge driver's interfaces. */
export interface BridgeLinks {
  /**
   * Makes the bridge what `n` says (created, MAC pinned, gateway addresses, up) and the endpoint's veth pair, and the
   * namespace itself when `ep.netns` is a file reserved for it.
   */
  attach(n: BridgeNetworkSpec, ep: BridgeEndpoint): Promise<void>;
  /** Deletes an endpoint's veth by its host end (the namespace end goes with it); absent is fine. */
  detach(hostIfname: string): Promise<void>;
  /**
   * Deletes the bridge; absent is fine. Ports still on it are released (the veths of stopped containers whose
   * namespaces the kernel has not finished destroying) unless `onlyIfEmpty`: then a bridge with a port (an
   * overlay's VXLAN device: the swarm keeps the ingress network on every node) is kept. Whether it is gone.
   */
  removeBridge(bridge: string, onlyIfEmpty?: boolean): Promise<boolean>;
  /** Adds addresses ("169.254.8.8/16") to an interface in a namespace. */
  addAddresses(netns: string, ifname: string, cidrs: string[]): Promise<void>;
}

/**
 * The bridge's lines. A Linux bridge whose MAC was never set takes the lowest MAC of its ports, so it would change as
 * containers come and go, and running containers would keep the gateway's old MAC in their ARP cache (their packets
 * to the gateway dropped for seconds): Berth gives a new bridge a MAC of its own, and pins an older one's (made by
 * netavark, which did not) to the MAC it has now. `addr replace` and `up` are idempotent, so the lines are the same
 * on every setup and a bridge someone changed is mended by the next container.
 */
export function bridgeLines(n: BridgeNetworkSpec, state: BridgeState): string[] {
  const out: string[] = [];
  const mtu = n.mtu ? ` mtu ${n.mtu}` : '';
  if (!state.exists) out.push(`link add name ${n.bridge} address ${bridgeMac(n.bridge)}${mtu} type bridge`);
  else {
    if (!state.macPinned && state.mac) out.push(`link set dev ${n.bridge} address ${state.mac}`);
    if (n.mtu) out.push(`link set dev ${n.bridge} mtu ${n.mtu}`);
  }
  for (const s of n.subnets) out.push(`addr replace ${s.gateway}/${prefixOf(s.subnet)} dev ${n.bridge}${isIPv4(s.gateway) ? '' : ' nodad'}`);
  out.push(`link set dev ${n.bridge} up`);
  return out;
}

/** The host as the container's namespace sees it, for the endpoint's lines run there. */
export interface HostSide {
  /** The host's network namespace as a path iproute2 opens (/proc/<berthd's PID>/ns/net). */
  netns: string;
  /** The bridge's ifindex on the host: iproute2 looks a `master` name up in its own (the container's) namespace,
   *  where the bridge is not, but takes `if<N>` for index N, which the kernel resolves in the host end's. */
  bridgeIndex: number;
}

/**
 * The endpoint's lines, all run in the container's namespace by one `ip` (which may be the one whose `unshare` made
 * the namespace): the pair made from inside with its host end sent to the host namespace as it is made — named,
 * MTU, a port of the bridge, up — and the container end left here with its MAC and MTU; then lo, the addresses (IPv6
 * `nodad`: usable at once, as netavark's accept_dad=0 made them, without a sysctl), the interface up and the default
 * route(s). The host end's hairpin mode (a container reaching itself through a published port or the swarm's mesh
 * leaves by the port it came in by) is a bridge-port option `link add` cannot set: the adapter writes it to /sys.
 */
export function endpointLines(n: BridgeNetworkSpec, ep: BridgeEndpoint, host: HostSide): string[] {
  const mtu = n.mtu ? ` mtu ${n.mtu}` : '';
  return [
    'link set dev lo up',
    `link add name ${ep.hostIfname}${mtu} master if${host.bridgeIndex} up netns ${host.netns} type veth peer name ${ep.ifname} address ${ep.mac}${mtu}`,
    ...ep.addresses.map((a) => `addr add ${a} dev ${ep.ifname}${isIPv4(a.split('/')[0]!) ? '' : ' nodad'}`),
    `link set dev ${ep.ifname} up`,
    ...ep.gateways.map((g) => `route add ${isIPv4(g) ? '0.0.0.0/0' : '::/0'} via ${g} dev ${ep.ifname}${routeMetric(ep.ifname)}`),
  ];
}

/**
 * Each interface's default route has its own metric, its number (eth0 none, eth1 1...): a container on several
 * networks keeps leaving by its first, as with Docker, and the second default route is no "File exists".
 */
function routeMetric(ifname: string): string {
  const n = Number(/(\d+)$/.exec(ifname)?.[1] ?? 0);
  return n > 0 ? ` metric ${n}` : '';
}

/**
 * The host end's name, derived from the container and the network so teardown finds it without asking the
 * namespace (which may be gone): "vb" and 13 hex digits, within the kernel's 15 characters.
 */
export function hostVethName(containerId: string, networkId: string): string {
  return `vb${createHash('sha256').update(`${containerId}/${networkId}`).digest('hex').slice(0, 13)}`;
}

/** Docker's MAC for a container's IPv4 address: 02:42 and the four bytes, so an address reused keeps its MAC. */
export function dockerMac(ipv4: string): string {
  return ['02', '42', ...ipv4.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** A bridge's own MAC: locally administered, unicast, derived from its name (stable across daemon restarts). */
export function bridgeMac(bridge: string): string {
  const h = createHash('sha256').update(bridge).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function prefixOf(subnet: string): string {
  return subnet.split('/')[1] ?? (isIPv4(subnet) ? '32' : '128');
}
