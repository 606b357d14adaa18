// What the engine needs from the swarm to put a container on an overlay network (swarm-scoped, driver overlay): the
// node's overlay service (src/cluster/overlay/node-overlay.ts) implements it while the node is in a swarm; the
// engine holds undefined otherwise. The engine keeps the container's side (netavark's veth into the network's bridge,
// the sandbox record written ahead), this port the network's side (addresses in etcd, the bridge and VXLAN, the
// endpoint other nodes learn of).
// CONTRACT: the engine codes against this; the cluster implements it.

export interface OverlayNetworkInfo {
  id: string;
  name: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  /** The Linux bridge of the network on this node (bo-<12>): netavark's network_interface. */
  bridge: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** When the network was made (network inspect's Created); absent: unknown. */
  created?: string;
}

/** Who the container is to the swarm: a task's container, or a standalone one on an attachable network. */
export interface OverlayJoinRequest {
  containerId: string;
  /** Without the slash. */
  containerName: string;
  /** The address asked (--ip), if any. */
  ip?: string;
  aliases: string[];
  task?: { taskId: string; serviceId: string; serviceName: string };
}

export interface OverlayJoin {
  ip: string;
  prefixLen: number;
  gateway: string;
  /** macForIp(ip): the same on every node. */
  mac: string;
  bridge: string;
}

export interface OverlayAttachments {
  /**
   * A swarm network by ID, full name or unique ID prefix, from the node's watched copy (synchronous: the engine's
   * create checks are). Undefined when there is none.
   */
  find(ref: string): OverlayNetworkInfo | undefined;
  /** Every swarm network this node knows (for network ls/inspect on the node). */
  list(): OverlayNetworkInfo[];
  /**
   * Before netavark's setup: leases the address, and makes the network present on this node (bridge and VXLAN,
   * peers programmed). Refuses (ForbiddenError, moby's text) a standalone container on a network that is not
   * attachable.
   */
  join(networkId: string, req: OverlayJoinRequest): Promise<OverlayJoin>;
  /** After setup: publishes the endpoint (other nodes then reach and resolve it). */
  joined(networkId: string, containerId: string): Promise<void>;
  /** Whether the container serves load-balanced traffic (running, not unhealthy): health changes call it. */
  serving(networkId: string, containerId: string, serving: boolean): Promise<void>;
  /**
   * Before netavark's teardown: withdraws the endpoint; when it is the node's last on the network, detaches the
   * VXLAN device so the teardown removes the bridge and netavark's rules with it.
   */
  leave(networkId: string, containerId: string): Promise<void>;
  /** After teardown: frees the address (also for a join whose setup failed). */
  left(networkId: string, containerId: string): Promise<void>;
  /** Calls `listener` when the set of networks changes (for the engine's cache of names, if it keeps one). */
  onChange(listener: () => void): () => void;
}
