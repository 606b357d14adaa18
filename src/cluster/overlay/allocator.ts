// Address management of swarm networks, in etcd, usable from any node (every write is a create-if-absent or
// compare-and-swap transaction, so managers and workers never hand out one thing twice): subnets from the swarm's
// default address pool (10.0.0.0/8 in /24s, as swarmkit), VNIs, and addresses — tasks', standalone containers',
// service VIPs, and each node's load-balancer address on a network.
// CONTRACT: implementation in allocator-etcd.ts.
import type { AddressOwner, OverlayConfig } from './model';

export interface OverlayNetworkRequest {
  networkId: string;
  /** IPAM.Config[0] as given: all optional. */
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  encrypted: boolean;
  ingress: boolean;
}

export interface OverlayAllocator {
  /**
   * Takes a subnet (the one asked, refused with a clear InvalidParameterError when it overlaps another swarm
   * network's, else the first free /24 of the pool that the host does not route) and a VNI for a new network.
   */
  allocateNetwork(req: OverlayNetworkRequest): Promise<OverlayConfig>;
  /** Frees the network's subnet, VNI, and every address lease and LB record (after the network object is gone). */
  releaseNetwork(networkId: string, config: OverlayConfig): Promise<void>;
  /**
   * Leases an address on the network for `owner`: `want` if given (ConflictError when held by another owner, 400
   * when outside the subnet), else the next free one after the last handed out. An owner asking again gets the
   * address it already holds (so a retry after a crash is harmless).
   */
  allocateAddress(networkId: string, config: OverlayConfig, owner: AddressOwner, want?: string): Promise<string>;
  /** Frees the owner's lease(s) on the network; nothing held is not an error. */
  releaseAddress(networkId: string, owner: AddressOwner): Promise<void>;
  /** This node's load-balancer address on the network (allocated once, kept while the node is in the swarm). */
  lbAddress(networkId: string, config: OverlayConfig, nodeId: string): Promise<string>;
}

/** Swarmkit's default address pool and subnet size; ingress takes the first (10.0.0.0/24). */
export const DEFAULT_OVERLAY_POOL = '10.0.0.0/8';
export const DEFAULT_OVERLAY_SUBNET_SIZE = 24;
/** Ingress published ports without a published port get one from here (swarmkit's dynamic range). */
export const DYNAMIC_PORT_RANGE = { start: 30000, end: 32767 };
