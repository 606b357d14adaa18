// The contracts of Berth's own bridge driver (decision 19), which replaces netavark's per-container work: the engine
// still describes an endpoint in netavark's option format (netavark.ts's NetavarkOptions, the NetworkDriver port), and
// the driver splits the work into the Linux effects below, each behind its own adapter. The point is the cost per
// container: network-wide state (the bridge, the NAT, forwarding and isolation rules) is made once per network, so a
// container without published ports costs no firewall call at all, and one with ports one `iptables-restore` per
// address family; the interfaces cost one `ip -batch` in the container's namespace (which makes the namespace too).
import type { NetavarkPortMapping } from '../netavark';

/** A bridge network as the driver's adapters need it (derived from netavark's network_info). */
export interface BridgeNetworkSpec {
  /** The network's ID (netavark's `name` and `id` are both the ID in Berth). */
  id: string;
  /** The Linux bridge (berth0, br-<12>, bo-<12>); unique on the host, so chains and rules are keyed by it. */
  bridge: string;
  /** IPv4 and/or IPv6 subnets with their gateway (the bridge's own address). */
  subnets: { subnet: string; gateway: string }[];
  /** `--internal`: no NAT, no way out, no published ports reachable from outside the network. */
  internal: boolean;
  /** Dropped between this bridge and every other isolated bridge (Docker's DOCKER-ISOLATION stages). */
  isolate: boolean;
  /** The MTU of the bridge and of its veths; undefined: the kernel's default (1500). */
  mtu?: number;
}

/** One container's published ports on one network, to the container's addresses there. */
export interface PublishedPorts {
  containerId: string;
  /** The container's address on the network, per family (at least one). */
  ipv4?: string;
  ipv6?: string;
  ports: NetavarkPortMapping[];
}

/**
 * The host's packet filter for bridge networks. Every method is idempotent (applying twice leaves one copy of each
 * rule) and applies its change in one atomic batch per address family. Rules coexist with other users of the host's
 * iptables (dockerd with FORWARD policy DROP, podman's netavark, other berthd on other bridges, the swarm mesh).
 */
export interface BridgeFirewall {
  /** The network-wide rules: masquerade of its subnets (unless internal), forwarding to/from the bridge (accepted
   *  even under a DROP policy), isolation from other bridges, route_localnet for 127.0.0.1 publishing. */
  ensureNetwork(n: BridgeNetworkSpec): Promise<void>;
  /** Removes everything ensureNetwork and publish made for the network. */
  removeNetwork(n: BridgeNetworkSpec): Promise<void>;
  /** DNAT (PREROUTING and OUTPUT, any local address or the mapping's host_ip), hairpin masquerade. */
  publish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void>;
  unpublish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void>;
  /** At daemon start: removes the rules of bridges of ours that are not in `keep` (this daemon's, by name). */
  reconcile(keep: BridgeNetworkSpec[]): Promise<void>;
}
