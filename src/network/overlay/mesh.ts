// Service load balancing without IPVS (this kernel has none): one nat ruleset in iptables, rewritten whole on each
// change with `iptables-restore --noflush`. A connection to a service's VIP, or to a published port on any of the
// node's addresses (the routing mesh), is sent by DNAT to one backend chosen with the `statistic` match (random,
// probability 1/(n-i) for the i-th of n, so each is equally likely); conntrack keeps the choice for the connection.
// CONTRACT: the types and the interface; renderer and applier in mesh-rules.ts.

export type MeshProto = 'tcp' | 'udp';

/** A service's VIP on one overlay network of this node. */
export interface VipRule {
  serviceId: string;
  /** The VIP (no prefix); the node's bridge holds it as a /32 so containers' packets to it reach the host. */
  vip: string;
  /** The bridge of the network. */
  bridge: string;
  /** This node's load-balancer address on the network: the source the backends see (replies must come back here). */
  lbAddr: string;
  /** Task addresses, any order; empty: connections are refused (REJECT), not black-holed. */
  backends: string[];
}

/** A port published in ingress mode: answered on every address of the node (PREROUTING and OUTPUT, --dst-type LOCAL). */
export interface IngressRule {
  serviceId: string;
  proto: MeshProto;
  publishedPort: number;
  targetPort: number;
  /** The ingress network's bridge on this node and this node's load-balancer address on it. */
  bridge: string;
  lbAddr: string;
  /**
   * Task addresses on the ingress network. `local` ones run on this node: they see the client's own source address
   * (replies go back through this host, their gateway). Remote ones get SNAT to lbAddr (moby#25526: only where needed).
   */
  backends: { ip: string; local: boolean }[];
}

export interface MeshState {
  vips: VipRule[];
  ingress: IngressRule[];
}

export interface MeshRules {
  /** Makes the host's mesh rules exactly `state` (one iptables-restore; the chains are Berth's own, jumped to once). */
  apply(state: MeshState): Promise<void>;
  /** Removes every chain and jump the mesh made (the node left the swarm, or nothing is published or balanced). */
  clear(): Promise<void>;
}

/**
 * Chains in the nat table (and in filter: FORWARD acceptance, and INPUT refusal of VIPs and published ports that have
 * no backend: their packets are addressed to the host and would otherwise reach whatever listens there) that belong
 * to the mesh.
 */
export const MESH_CHAINS = {
  natPrerouting: 'BERTH-MESH-PRE',
  natOutput: 'BERTH-MESH-OUT',
  natPostrouting: 'BERTH-MESH-POST',
  filterForward: 'BERTH-MESH-FWD',
  filterInput: 'BERTH-MESH-IN',
} as const;

export type MeshChains = { readonly [K in keyof typeof MESH_CHAINS]: string };

/**
 * The mesh's chains of one daemon: `suffix` tells apart daemons sharing a network namespace (test daemons; one
 * berthd per namespace in production), so none rewrites or clears another's rules. Names stay within iptables' 28.
 */
export function meshChains(suffix = ''): MeshChains {
  if (!suffix) return MESH_CHAINS;
  if (!/^[A-Za-z0-9]{1,8}$/.test(suffix)) throw new Error(`mesh chain suffix ${JSON.stringify(suffix)}: 1 to 8 letters or digits`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(MESH_CHAINS)) out[k] = `${v}-${suffix}`;
  return out as MeshChains;
}
