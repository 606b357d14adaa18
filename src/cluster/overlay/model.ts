// What the swarm keeps in etcd about overlay networks besides the network objects themselves, and where.
// Key layout (all under /berth/swarm/v1/overlay/):
//   addresses/<networkId>/<ip>      AddressLease: one per address handed out, created with a create-if-absent txn
//   endpoints/<networkId>/<nodeId>/<containerId>  EndpointRecord: a running container's endpoint, written by its node
//   lb/<networkId>/<nodeId>         the node's load-balancer address on the network (an AddressLease's ip)
//   vnis/<vni>                      the network ID holding the VNI
//   subnets/<subnet with _ for />   the network ID holding the subnet
//   keys                            EncryptionKeys for encrypted networks (rotated by the leader)
//   cursors/<networkId>             the last address handed out on the network (the next one goes after it)
//   subnet-guard                    moved by every subnet allocation, so two overlapping subnets never both win
// CONTRACT: the shapes and keys; the allocator (allocator.ts) and the node side (node-overlay.ts) code against them.
import { PREFIX } from '../store/objects';

export const OVERLAY_PREFIX = `${PREFIX}overlay/`;

export const overlayKeys = {
  addresses: (networkId: string) => `${OVERLAY_PREFIX}addresses/${networkId}/`,
  address: (networkId: string, ip: string) => `${OVERLAY_PREFIX}addresses/${networkId}/${ip}`,
  endpointsOf: (networkId: string) => `${OVERLAY_PREFIX}endpoints/${networkId}/`,
  allEndpoints: () => `${OVERLAY_PREFIX}endpoints/`,
  endpoint: (networkId: string, nodeId: string, containerId: string) => `${OVERLAY_PREFIX}endpoints/${networkId}/${nodeId}/${containerId}`,
  lb: (networkId: string, nodeId: string) => `${OVERLAY_PREFIX}lb/${networkId}/${nodeId}`,
  lbOf: (networkId: string) => `${OVERLAY_PREFIX}lb/${networkId}/`,
  vni: (vni: number) => `${OVERLAY_PREFIX}vnis/${vni}`,
  subnet: (subnet: string) => `${OVERLAY_PREFIX}subnets/${subnet.replace('/', '_')}`,
  keys: () => `${OVERLAY_PREFIX}keys`,
  cursor: (networkId: string) => `${OVERLAY_PREFIX}cursors/${networkId}`,
  subnetGuard: () => `${OVERLAY_PREFIX}subnet-guard`,
};

/**
 * The overlay part of a swarm network object (ClusterNetwork.Overlay), fixed at create: what every node needs to
 * realize it. IPAM and the VNI are the manager's; shown by `network inspect` as dockerd shows them.
 */
export interface OverlayConfig {
  Subnet: string;
  Gateway: string;
  /** --ip-range ('' = the whole subnet). */
  IPRange: string;
  VNI: number;
  Encrypted: boolean;
  /** The swarm's routing-mesh network (`ingress`, made at init, or `network create --ingress`). */
  Ingress: boolean;
}

/** Who holds an address. */
export type AddressOwner =
  | { kind: 'task'; taskId: string; nodeId: string }
  | { kind: 'container'; containerId: string; nodeId: string }
  | { kind: 'vip'; serviceId: string }
  | { kind: 'lb'; nodeId: string }
  | { kind: 'reserved' };

export interface AddressLease { ip: string; owner: AddressOwner }

/** A running container's endpoint on an overlay network, as its node publishes it. */
export interface EndpointRecord {
  networkId: string;
  nodeId: string;
  /** The node's underlay (data-path) address: where other nodes send VXLAN to reach it. */
  nodeAddr: string;
  containerId: string;
  /** The container's name without the slash (tasks: service.slot.taskid). */
  name: string;
  ip: string;
  mac: string;
  /** Names it answers to on the network besides `name`: aliases, the short container ID. */
  aliases: string[];
  /** Set for a task's container. */
  serviceId?: string;
  serviceName?: string;
  taskId?: string;
  /**
   * Whether the endpoint takes load-balanced connections (its VIP, the mesh, the service's dnsrr name): a task's
   * container that is running and not unhealthy. Names (container, task, aliases) resolve whatever this says.
   */
  serving: boolean;
}

/** Keys of encrypted overlays: the newest is used to send, the others still accepted (Docker keeps three). */
export interface EncryptionKeys {
  keys: { generation: number; key: string; createdAt: string }[];
}

/** How often the leader adds a new key generation (moby: 12 hours). */
export const KEY_ROTATION_MS = 12 * 3600_000;
