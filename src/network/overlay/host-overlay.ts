// An overlay network's presence on one host: a Linux bridge holding the network's gateway (the same address on every
// node), a VXLAN device attached to it, and the forwarding entries of the endpoints on other nodes, programmed from
// etcd (no flooding, no learning: the VXLAN device answers ARP from its neighbour table, `proxy`). Local containers
// are attached to the bridge by netavark, as on any bridge network.
// CONTRACT: the interface and the pure helpers are what the rest of Berth codes against (implementation: host-overlay-ip.ts).
import { createHash } from 'node:crypto';
import * as path from 'node:path';

/** What identifies a network's devices on a host. Device names fit IFNAMSIZ (15). */
export interface OverlayLink {
  networkId: string;
  /** `bo-<first 12 of the network ID>`. */
  bridge: string;
  /** `vx-<first 12 of the network ID>`. */
  vxlan: string;
  /** VXLAN network identifier (4096 and up, as swarmkit's). */
  vni: number;
  /** The gateway as CIDR, e.g. 10.0.1.1/24: on the bridge of every node. */
  gateway: string;
  /** This node's underlay address (its data-path address): the VXLAN's local end. */
  localAddr: string;
  /** UDP port of the VXLAN (4789; encrypted networks 4790: see xfrm.ts). */
  port: number;
  /** MTU of the bridge and VXLAN device (underlay MTU minus 50). */
  mtu: number;
  /**
   * The swarm has no other node: no VXLAN device (there is nobody to reach, and single-node swarms sharing a network
   * namespace — test daemons — would clash on the VNI, which the kernel keeps unique per UDP port).
   */
  solo?: boolean;
}

/** An endpoint on another node: its overlay address, MAC and the node's underlay address. */
export interface OverlayPeer { ip: string; mac: string; nodeAddr: string }

export interface OverlayHost {
  /**
   * Makes (or corrects) the bridge and the VXLAN device of the network, attached and up, the bridge holding the
   * gateway and exactly `extraAddrs` besides (CIDRs: this node's load-balancer address with the subnet's prefix,
   * service VIPs as /32); addresses it holds that are not asked for any more are removed. Idempotent.
   * The load-balancer address is the primary one of the subnet (the host's own packets into the overlay leave from it,
   * so replies come back to this node), and the bridge's MAC is macForIp(load-balancer address), pinned: other nodes
   * reach this node's host through the peer entry they make for that address like any endpoint's. Pass the
   * load-balancer address from the first call: without it the MAC is a stand-in, changed once when it comes.
   * A VXLAN device made anew (none, or its VNI, local address or port changed) has no peers: call setPeers after.
   */
  ensure(link: OverlayLink, extraAddrs: string[]): Promise<void>;
  /** Makes the VXLAN device's fdb and neighbour entries exactly `peers` (adds, replaces and removes). */
  setPeers(link: OverlayLink, peers: OverlayPeer[]): Promise<void>;
  /**
   * Deletes the VXLAN device only: before the node's last container leaves the network, so netavark's teardown of
   * that container sees an empty bridge and removes the bridge and its firewall rules itself.
   */
  detach(link: OverlayLink): Promise<void>;
  /** Deletes the VXLAN device and the bridge (what netavark did not remove). Absent devices are not an error. */
  remove(link: OverlayLink): Promise<void>;
  /** The network IDs' 12-character prefixes of the overlay devices present (bo-*, vx-*): reconciled at start-up. */
  present(): Promise<string[]>;
}

export const VXLAN_PORT = 4789;
export const ENCRYPTED_VXLAN_PORT = 4790;
/** VXLAN over IPv4 adds 50 bytes. */
export const VXLAN_OVERHEAD = 50;
export const FIRST_VNI = 4096;

/**
 * What tells one daemon's overlay devices (their alias, `berth:<tag>`) and mesh chains (their suffix) from another's in
 * the same network namespace: a hash of its data root, stable across restarts so a restarted daemon finds its own.
 */
export function daemonOverlayTag(dataRoot: string): string {
  return createHash('sha256').update(path.resolve(dataRoot)).digest('hex').slice(0, 6);
}

export function overlayDeviceNames(networkId: string): { bridge: string; vxlan: string } {
  const short = networkId.slice(0, 12);
  return { bridge: `bo-${short}`, vxlan: `vx-${short}` };
}

/** Docker's MAC for an IPv4 address (02:42 and the address's four bytes): the same on every node, so no lookup. */
export function macForIp(ip: string): string {
  const bytes = ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}
