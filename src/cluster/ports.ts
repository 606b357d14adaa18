// What the node's cluster membership (cluster.ts) needs from the parts around it, each behind one narrow port:
// the etcd member process, a store connection with etcd's membership calls, the manager loops, the node agent,
// this node's containers, and the control endpoint. daemon.ts fills them with the real parts; unit tests with fakes.
import type { Readable } from 'node:stream';
import type { LogOptions } from './backend';
import type { CertificateFiles } from './node/state';
import type { ClusterObjects } from './store/objects';
import type { ClusterStore } from './store/store';

export interface TlsMaterial { certPem: string; keyPem: string; caPem: string }

/** One etcd member as this node runs it. */
export interface EtcdMemberSpec {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  /** "name=peerUrl,..." of the cluster it starts or joins. */
  initialCluster: string;
  state: 'new' | 'existing';
  /** etcd --force-new-cluster: restart as a one-member cluster on this member's data. */
  forceNewCluster?: boolean;
  tls: CertificateFiles;
}

export interface EtcdMemberProcess {
  /** Stops the member process (its data stays). */
  stop(): Promise<void>;
}

export interface EtcdProcesses {
  /** Starts the member, or adopts the one a previous berthd left running (its pidfile), and waits until it answers. */
  start(spec: EtcdMemberSpec): Promise<EtcdMemberProcess>;
}

/** etcd's cluster membership API, through the same client as the store. */
export interface EtcdMembership {
  /** Adds a member by its peer URL; returns the initial-cluster string the new member must start with. */
  add(name: string, peerUrl: string): Promise<{ initialCluster: string }>;
  remove(name: string): Promise<void>;
  list(): Promise<{ name: string; peerUrls: string[]; clientUrls: string[] }[]>;
}

export interface StoreConnection {
  store: ClusterStore;
  objects: ClusterObjects;
  members: EtcdMembership;
  close(): Promise<void>;
}

export type ConnectStore = (endpoints: string[], tls: TlsMaterial) => Promise<StoreConnection>;

/** A running loop or set of loops (manager loops on the leader, the agent on every node). */
export interface Running {
  stop(): Promise<void>;
}

export interface RoleContext {
  nodeId: string;
  objects: ClusterObjects;
  store: ClusterStore;
}

export interface ClusterRoles {
  /** The leader's loops: orchestrators, scheduler, updater, reaper, node health. */
  startManager(ctx: RoleContext): Promise<Running>;
  /** This node's worker: runs the tasks assigned to it. */
  startAgent(ctx: RoleContext): Promise<Running>;
  /** Logs of a task this node runs (the agent's), for service and task logs. */
  localTaskLogs?(taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable } | undefined>;
}

export interface NodeContainers {
  /** Force-removes every container labelled com.docker.swarm.node.id=<nodeId> (swarm leave). */
  removeNodeContainers(nodeId: string): Promise<void>;
}
