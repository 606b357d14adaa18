// The parts of the Docker Engine API's answers that the integration tests read (a test casts JSON.parse's result to these):
// src/wire/docker.ts's types where they say what the tests read, and the fuller inspect shapes it does not declare.
import type { MountPoint } from '../../src/wire/docker';

export type {
  EventMessage, ExecInspect, ImageSummary, JsonMessage as JSONMessage, MountPoint, Volume as VolumeInspect, VolumePruneResponse as VolumePruneReport,
} from '../../src/wire/docker';

export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  Options?: Record<string, string>;
  Labels?: Record<string, string> | null;
  IPAM: { Driver: string; Options?: Record<string, string> | null; Config: IpamConfig[] };
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
}

export interface IpamConfig {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** A container's endpoint on one network (NetworkSettings.Networks[name]). */
export interface EndpointSettings {
  NetworkID: string;
  EndpointID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Aliases: string[] | null;
  Links: string[] | null;
  DNSNames?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests?: string[];
  Parent?: string;
  Created: string;
  Size: number;
  Config: ContainerConfig;
  RootFS: { Type: string; Layers: string[] };
  Os: string;
  Architecture: string;
  Author?: string;
  Comment?: string;
}

export interface ContainerConfig {
  Hostname?: string;
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  OnBuild?: string[] | null;
  Shell?: string[] | null;
}

/** An error answer: { message }. */
export interface ErrorBody {
  message: string;
}

/** A create answer: { Id, Warnings }. */
export interface IdBody {
  Id: string;
  Warnings?: string[];
}

export interface HealthState {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

/** The X-Docker-Container-Path-Stat header of an archive answer, decoded. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** One entry of `docker save`'s manifest.json. */
export interface SaveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: { Type: string; Source?: string; Target: string; ReadOnly?: boolean }[];
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]> | null;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  AutoRemove?: boolean;
  Links?: string[] | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  Created: string;
  Path: string;
  Args: string[];
  RestartCount: number;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  LogPath: string;
  GraphDriver: { Name: string; Data: Record<string, string> };
  Config: ContainerConfig;
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; Pid: number; OOMKilled: boolean; Health?: HealthState };
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  NetworkSettings: {
    Networks: Record<string, EndpointSettings>;
    SandboxKey: string;
    /** The default bridge's endpoint, repeated at the top as dockerd does. */
    IPAddress: string;
    IPPrefixLen: number;
    Gateway: string;
    MacAddress: string;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  };
}

/** One sample of GET /containers/{id}/stats (the fields tests read). */
export interface StatsSample {
  name: string;
  read: string;
  cpu_stats: { system_cpu_usage: number; online_cpus: number; cpu_usage: { total_usage: number } };
  precpu_stats: { system_cpu_usage: number; online_cpus?: number; cpu_usage: { total_usage: number } };
  memory_stats: { usage: number; limit: number };
  pids_stats: { current: number; limit?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

/** GET /version. */
export interface VersionBody {
  ApiVersion: string;
  MinAPIVersion: string;
  Version: string;
  Os: string;
}

/** GET /info (the fields tests read). */
export interface InfoBody {
  Containers: number;
  Images: number;
  Swarm: { LocalNodeState: string; ControlAvailable: boolean };
}

/** What dockerode's modem rejects with: the HTTP status beside the message. */
export interface ModemError extends Error {
  statusCode?: number;
}
