// What the swarm-mode API routes ask of the cluster: the facade src/api/routes/{swarm,nodes,services,tasks,
// secrets,configs}.ts call, implemented by the node's cluster membership (src/cluster/cluster.ts) and faked in
// route tests. Inputs arrive checked by the API edge's decoders; errors are errdefs kinds (or the store's
// UpdateOutOfSequence / NameConflict), with moby's texts.
// CONTRACT: the cluster parts code against this; extend it, do not change what is here without saying so.
import type { Readable } from 'node:stream';
import type { Filters } from '../wire/filters';
import type { NetworkCreateBody, NetworkResource } from '../wire/docker';
import type {
  Config, ConfigSpec, InitRequest, JoinRequest, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Swarm, SwarmInfo, SwarmSpec, Task,
} from '../wire/swarm';

export interface LogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  timestamps: boolean;
  details: boolean;
  /** Unix seconds (fractional allowed); 0 = from the start. */
  since: number;
  /** 'all' or a count. */
  tail: number | 'all';
}

/** A log stream as the containers' logs route writes it (multiplexed unless the task has a TTY). */
export interface ClusterLogStream {
  tty: boolean;
  stream: Readable;
}

export interface ServiceUpdateOptions {
  rollback: boolean;
  registryAuthFrom: 'spec' | 'previous-spec';
  /** X-Registry-Auth, kept with the service and never returned. */
  encodedAuth?: string;
}

export interface ClusterBackend {
  /** /info's Swarm section: works in every state. */
  info(): Promise<SwarmInfo>;
  /** /_ping's Swarm header: inactive | pending | error | locked | active/worker | active/manager. */
  pingHeader(): string;

  init(request: InitRequest): Promise<string>;
  join(request: JoinRequest): Promise<void>;
  leave(force: boolean): Promise<void>;
  inspectSwarm(): Promise<Swarm>;
  updateSwarm(spec: SwarmSpec, version: number, rotate: { workerToken: boolean; managerToken: boolean; unlockKey: boolean }): Promise<void>;
  unlockKey(): Promise<string>;
  unlock(key: string): Promise<void>;

  listNodes(filters: Filters): Promise<Node[]>;
  inspectNode(idOrName: string): Promise<Node>;
  updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void>;
  removeNode(idOrName: string, force: boolean): Promise<void>;

  listServices(filters: Filters, withStatus: boolean): Promise<Service[]>;
  createService(spec: ServiceSpec, encodedAuth?: string): Promise<{ ID: string; Warnings: string[] | null }>;
  inspectService(idOrName: string, insertDefaults: boolean): Promise<Service>;
  updateService(idOrName: string, version: number, spec: ServiceSpec, options: ServiceUpdateOptions): Promise<{ Warnings: string[] | null }>;
  removeService(idOrName: string): Promise<void>;
  serviceLogs(idOrName: string, options: LogOptions): Promise<ClusterLogStream>;

  listTasks(filters: Filters): Promise<Task[]>;
  inspectTask(id: string): Promise<Task>;
  taskLogs(id: string, options: LogOptions): Promise<ClusterLogStream>;

  listSecrets(filters: Filters): Promise<Secret[]>;
  createSecret(spec: SecretSpec): Promise<{ ID: string }>;
  inspectSecret(idOrName: string): Promise<Secret>;
  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void>;
  removeSecret(idOrName: string): Promise<void>;

  listConfigs(filters: Filters): Promise<Config[]>;
  createConfig(spec: ConfigSpec): Promise<{ ID: string }>;
  inspectConfig(idOrName: string): Promise<Config>;
  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void>;
  removeConfig(idOrName: string): Promise<void>;
}

/**
 * A swarm's networks (Scope "swarm": `docker network create -d overlay`, stack networks) kept by the cluster, listed
 * beside the local ones while this node is a manager (src/cluster/cluster.ts); the network routes take it beside the engine's NetworkService.
 */
export interface SwarmNetworks {
  /** Empty when this node is no manager. */
  list(): Promise<NetworkResource[]>;
  find(idOrName: string): Promise<NetworkResource | undefined>;
  /** Creates an overlay network (503 with moby's text when this node is no manager). */
  create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }>;
  /** False when there is no such swarm network. */
  remove(idOrName: string): Promise<boolean>;
}

