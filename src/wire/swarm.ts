// Swarm-mode wire types (moby's api/types/swarm): what /swarm, /nodes, /services, /tasks, /secrets and /configs
// read and write. Durations are nanoseconds, timestamps RFC 3339 with nanoseconds, IDs 25 lowercase base36
// characters. The same objects are what the cluster store keeps (one JSON document per object in etcd), so the
// API serves them as stored, plus the fields the API computes (ServiceStatus, Endpoint.Ports...).

export interface Version { Index: number }

/** The fields every stored swarm object has. */
export interface Meta {
  ID: string;
  Version: Version;
  CreatedAt: string;
  UpdatedAt: string;
}

export interface Annotations {
  Name?: string;
  Labels: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------- swarm

export interface SwarmSpec extends Annotations {
  Orchestration?: { TaskHistoryRetentionLimit?: number };
  Raft?: { SnapshotInterval?: number; KeepOldSnapshots?: number; LogEntriesForSlowFollowers?: number; ElectionTick?: number; HeartbeatTick?: number };
  Dispatcher?: { HeartbeatPeriod?: number };
  CAConfig?: { NodeCertExpiry?: number; ExternalCAs?: unknown[]; SigningCACert?: string; SigningCAKey?: string; ForceRotate?: number };
  TaskDefaults?: { LogDriver?: Driver };
  EncryptionConfig?: { AutoLockManagers: boolean };
}

export interface TLSInfo {
  TrustRoot: string;
  CertIssuerSubject: string;
  CertIssuerPublicKey: string;
}

export interface ClusterInfo extends Meta {
  Spec: SwarmSpec;
  TLSInfo: TLSInfo;
  RootRotationInProgress: boolean;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
}

export interface JoinTokens { Worker: string; Manager: string }

/** GET /swarm. */
export interface Swarm extends ClusterInfo { JoinTokens: JoinTokens }

export interface InitRequest {
  ListenAddr: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  DataPathPort?: number;
  ForceNewCluster?: boolean;
  Spec?: SwarmSpec;
  AutoLockManagers?: boolean;
  Availability?: NodeAvailability | '';
  DefaultAddrPool?: string[];
  SubnetSize?: number;
}

export interface JoinRequest {
  ListenAddr: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  RemoteAddrs: string[];
  JoinToken: string;
  Availability?: NodeAvailability | '';
}

export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

/** /info's Swarm section. */
export interface SwarmInfo {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: LocalNodeState;
  ControlAvailable: boolean;
  Error: string;
  RemoteManagers: { NodeID: string; Addr: string }[] | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: ClusterInfo;
  Warnings?: string[];
}

// ----------------------------------------------------------------------------------------------- nodes

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';

export interface NodeSpec extends Annotations {
  Role: NodeRole;
  Availability: NodeAvailability;
}

export interface NodeDescription {
  Hostname: string;
  Platform: { Architecture: string; OS: string };
  Resources: { NanoCPUs: number; MemoryBytes: number; GenericResources?: GenericResource[] };
  Engine: { EngineVersion: string; Labels?: Record<string, string>; Plugins: { Type: string; Name: string }[] };
  TLSInfo: TLSInfo;
}

export interface Node extends Meta {
  Spec: NodeSpec;
  Description: NodeDescription;
  Status: { State: NodeState; Message?: string; Addr: string };
  ManagerStatus?: { Leader?: boolean; Reachability: 'unknown' | 'unreachable' | 'reachable'; Addr: string };
}

// -------------------------------------------------------------------------------------------- services

export interface Driver { Name: string; Options?: Record<string, string> }

export interface GenericResource {
  NamedResourceSpec?: { Kind: string; Value: string };
  DiscreteResourceSpec?: { Kind: string; Value: number };
}

export interface Mount {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: Record<string, unknown>;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: Driver; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface FileTarget { Name: string; UID: string; GID: string; Mode: number }

export interface SecretReference { File?: FileTarget; SecretID: string; SecretName: string }
export interface ConfigReference { File?: FileTarget; Runtime?: Record<string, never>; ConfigID: string; ConfigName: string }

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerSpec {
  Image: string;
  Labels?: Record<string, string>;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Groups?: string[];
  Privileges?: Record<string, unknown>;
  Init?: boolean;
  StopSignal?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  StopGracePeriod?: number;
  Healthcheck?: HealthConfig;
  Hosts?: string[];
  DNSConfig?: { Nameservers?: string[]; Search?: string[]; Options?: string[] };
  Secrets?: SecretReference[];
  Configs?: ConfigReference[];
  Isolation?: string;
  Sysctls?: Record<string, string>;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  OomScoreAdj?: number;
}

export interface Resources { NanoCPUs?: number; MemoryBytes?: number; Pids?: number; GenericResources?: GenericResource[] }

export type RestartCondition = 'none' | 'on-failure' | 'any';

export interface RestartPolicy { Condition?: RestartCondition; Delay?: number; MaxAttempts?: number; Window?: number }

export interface Placement {
  Constraints?: string[];
  Preferences?: { Spread: { SpreadDescriptor: string } }[];
  MaxReplicas?: number;
  Platforms?: { Architecture?: string; OS?: string }[];
}

export interface NetworkAttachmentConfig { Target: string; Aliases?: string[]; DriverOpts?: Record<string, string> }

export interface TaskSpec {
  ContainerSpec?: ContainerSpec;
  Resources?: { Limits?: Resources; Reservations?: Resources };
  RestartPolicy?: RestartPolicy;
  Placement?: Placement;
  Networks?: NetworkAttachmentConfig[];
  LogDriver?: Driver;
  ForceUpdate?: number;
  Runtime?: string;
}

export interface ServiceMode {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
}

export type FailureAction = 'pause' | 'continue' | 'rollback';

export interface UpdateConfig {
  Parallelism: number;
  Delay?: number;
  FailureAction?: FailureAction;
  Monitor?: number;
  MaxFailureRatio: number;
  Order?: 'stop-first' | 'start-first';
}

export interface PortConfig {
  Name?: string;
  Protocol?: 'tcp' | 'udp' | 'sctp';
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: 'ingress' | 'host';
}

export interface EndpointSpec { Mode?: 'vip' | 'dnsrr'; Ports?: PortConfig[] }

export interface ServiceSpec extends Annotations {
  TaskTemplate: TaskSpec;
  Mode?: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: EndpointSpec;
  /** Deprecated, still accepted from old clients: moved into TaskTemplate.Networks. */
  Networks?: NetworkAttachmentConfig[];
}

export type UpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface UpdateStatus { State?: UpdateState; StartedAt?: string; CompletedAt?: string; Message?: string }

export interface Service extends Meta {
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint: { Spec: EndpointSpec; Ports?: PortConfig[]; VirtualIPs?: { NetworkID: string; Addr: string }[] };
  UpdateStatus?: UpdateStatus;
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks: number };
  JobStatus?: { JobIteration: Version; LastExecution?: string };
}

// ----------------------------------------------------------------------------------------------- tasks

/** In order: an observed state only moves forward; anything after running is terminal. */
export const TASK_STATES = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running',
  'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = typeof TASK_STATES[number];

export interface TaskStatus {
  Timestamp: string;
  State: TaskState;
  Message: string;
  Err?: string;
  ContainerStatus?: { ContainerID: string; PID: number; ExitCode: number };
  PortStatus: { Ports?: PortConfig[] };
}

export interface Task extends Meta {
  Name?: string;
  Labels: Record<string, string>;
  /** A snapshot of the service's TaskTemplate when the task was made. */
  Spec: TaskSpec;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  Status: TaskStatus;
  DesiredState: TaskState;
  NetworksAttachments?: { Network: Record<string, unknown>; Addresses: string[] }[];
  GenericResources?: GenericResource[];
  JobIteration?: Version;
  Volumes: null;
  /** Berth: the spec version (service Version.Index at the time) this task was made from, for the updater. */
  SpecVersion?: number;
}

// -------------------------------------------------------------------------------------- secrets, configs

export interface SecretSpec extends Annotations {
  /** Base64; never returned for secrets. */
  Data?: string;
  Driver?: Driver;
  Templating?: Driver;
}

export interface Secret extends Meta { Spec: SecretSpec }

export type ConfigSpec = SecretSpec;
export interface Config extends Meta { Spec: ConfigSpec }

// ------------------------------------------------------------------------------------------ durations

export const SECOND_NS = 1_000_000_000;
