// Docker Engine API wire types (the subset Berth serves), as defined by moby's api/swagger.yaml.

/**
 * The Engine API version Berth advertises (/version, /_ping) and negotiating clients settle on: Docker 27.5's
 * (COMPAT_DOCKER_VERSION), whose API Berth implements. The docker CLI v28 then speaks it.
 */
export const API_VERSION = '1.47';
/**
 * The newest version a request may ask for (docker CLI v28.5's): clients that pin a version rather than
 * negotiate are served up to it, with what each version changes that clients read (api/api-versions.ts).
 */
export const MAX_API_VERSION = '1.51';
/** The oldest, as dockerd 20.10 reports it (skopeo's docker-daemon: transport speaks 1.22). */
export const MIN_API_VERSION = '1.12';
/** Requests for an older version get their errors as plain text, as dockerd answers them. */
export const FIRST_JSON_ERRORS_VERSION = '1.24';
export const BERTH_VERSION = '0.1.0';
/** The Docker engine version Berth reports compatibility with in /version. */
export const COMPAT_DOCKER_VERSION = '27.5.1';

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

/** The image config's "config" object, and the container create body's base. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[] | null;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface Ulimit { Name: string; Soft: number; Hard: number }

export interface PortBinding { HostIp?: string; HostPort?: string }

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

export interface HostConfig {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: MountSpec[];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation?: string;
  // Resources
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null;
  DeviceCgroupRules?: string[] | null;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  Init?: boolean | null;
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  ConsoleSize?: [number, number] | null;
  Annotations?: Record<string, string>;
}

export interface EndpointSettings {
  IPAMConfig?: unknown;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DriverOpts?: Record<string, string> | null;
  DNSNames?: string[] | null;
}

export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

/**
 * The JSON names of HostConfig's fields (moby's container.HostConfig with its Resources). moby's create decoder
 * before v28 also read them at the top level of the create body, beside Config's (which share no name with them).
 */
export const HOST_CONFIG_FIELDS: readonly string[] = [
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver',
  'VolumesFrom', 'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch',
  'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts',
  'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode', 'ShmSize', 'Sysctls', 'Runtime',
  'Isolation', 'Mounts', 'MaskedPaths', 'ReadonlyPaths', 'Init',
  // Resources
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
  'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory',
  'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits',
  'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
];

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
}

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** GET /volumes/{name}, an entry of GET /volumes (moby api/types/volume.Volume). */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339, seconds. */
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string> | null;
  Scope: 'local' | 'global';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** POST /volumes/create */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeListResponse { Volumes: Volume[]; Warnings: string[] | null }

export interface VolumePruneResponse { VolumesDeleted: string[] | null; SpaceReclaimed: number }

export interface Port { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string; Annotations?: Record<string, string> };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  Containers: number;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** One message of Docker's JSON progress stream (pull, push, load, build, import). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message: string };
  aux?: unknown;
}

/** An event as GET /events streams it. */
export interface EventMessage {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
  // Deprecated fields Docker still sends for containers and images.
  status?: string;
  id?: string;
  from?: string;
}

/** POST /containers/{id}/exec */
export interface ExecCreateBody {
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean;
  ConsoleSize?: [number, number] | null; DetachKeys?: string; Tty?: boolean;
  Env?: string[] | null; Cmd?: string[] | string | null; Privileged?: boolean; User?: string; WorkingDir?: string;
}

/** POST /exec/{id}/start */
export interface ExecStartBody { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }

/** GET /exec/{id}/json */
export interface ExecInspect {
  CanRemove: boolean; ContainerID: string; DetachKeys: string; ExitCode: number | null; ID: string;
  OpenStderr: boolean; OpenStdin: boolean; OpenStdout: boolean; Running: boolean; Pid: number;
  ProcessConfig: { arguments: string[]; entrypoint: string; privileged: boolean; tty: boolean; user: string };
}

/** POST /networks/create (moby api/types/network.CreateRequest). */
export interface NetworkCreateBody {
  Name?: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IPAMConfig[] | null; Options?: Record<string, string> | null } | null;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface IPAMConfig { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

/** GET /networks/{id}, an entry of GET /networks (moby api/types/network.Inspect). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local' | 'swarm';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IPAMConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** An endpoint's settings as a request gives them (create's NetworkingConfig, network connect). */
export interface EndpointConfigBody {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

/** POST /networks/{id}/connect */
export interface NetworkConnectBody { Container?: string; EndpointConfig?: EndpointConfigBody | null }

/** POST /networks/{id}/disconnect */
export interface NetworkDisconnectBody { Container?: string; Force?: boolean }
