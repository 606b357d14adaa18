// What the daemon hands the cluster at construction: where its state lives, its ports, and the adapters it runs
// the swarm through (etcd, the store, the roles, the control endpoint and its client, the host).
import type { Readable } from 'node:stream';
import type { LogOptions } from './backend';
import type { X509Signer } from './ca/openssl';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './control/messages';
import type { ControlServerOptions } from './control/server';
import type { HostDescriptionSources } from './node/description';
import type { NodeOverlayWiring } from './overlay/node-overlay-wiring';
import type { ClusterRoles, ConnectStore, EtcdProcesses, NodeContainers, Running, TlsMaterial } from './ports';
import type { HostRouteProbe } from '../network/host-routes';
import type { HostInterface } from '../network/host-interfaces';

export interface ClusterOptions {
  dataRoot: string;
  /** The exec root (a tmpfs): the one clear copy of the node key etcd reads. Default: under the data root. */
  runRoot?: string;
  ports: { control: number; etcdClient: number; etcdPeer: number };
  signer: X509Signer;
  etcd: EtcdProcesses;
  connect: ConnectStore;
  roles: ClusterRoles;
  containers: NodeContainers;
  host: HostDescriptionSources;
  /** Opens the TLS control endpoint (join, task logs, images) of a node in a swarm (control/server.ts). */
  control?: (o: ControlServerOptions) => Promise<Running>;
  /** Asks a manager's control endpoint to let this node join (control/client.ts). */
  joinThrough?: (remote: string, token: string, request: JoinAsk) => Promise<JoinAnswer>;
  /** A node promoted to manager asks a manager for its manager certificate and the cluster data key (control/client.ts). */
  promoteThrough?: (remote: string, tls: TlsMaterial, csrPem: string) => Promise<PromoteAnswer>;
  /** An image tar from a peer's control endpoint; undefined when it lacks the image (control/client.ts). */
  peerImage?: (addr: string, tls: TlsMaterial, ref: string) => Promise<Readable | undefined>;
  /** A peer's task logs through its control endpoint (control/client.ts). */
  peerTaskLogs?: (addr: string, tls: TlsMaterial, taskId: string, options: LogOptions) => Promise<{ tty: boolean; stream: Readable }>;
  /** This node's images for peers that lack one (`docker save` of one reference). */
  exportImage?: (ref: string) => Promise<Readable | undefined>;
  /** The host's interfaces and the engine's own subnets, to choose an advertise address when none is given. */
  hostAddresses?: () => Promise<{ interfaces: HostInterface[]; managedSubnets: string[] }>;
  /** Overlay networks on this node while it is in the swarm (overlay/node-overlay-wiring.ts); absent: none. */
  overlay?: NodeOverlayWiring;
  /** What this host routes, kept out of new overlay subnets (default: /proc/net/route and the interfaces' subnets). */
  hostRoutes?: HostRouteProbe;
  /** Why encrypted overlays cannot work on this host (no ESP in the kernel), or undefined. */
  encryptionUnsupported?(): Promise<string | undefined>;
  log: { info(m: string): void; error(m: string): void };
}
