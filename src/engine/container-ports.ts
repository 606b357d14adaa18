// What the container service needs of the layers beside and below it, as narrow interfaces it owns: daemon.ts passes
// the real ones (images, OCI runtime, overlay mounts, networks), the unit tests fakes (test/fakes/).
import type { CgroupLockWarmer } from '../host/cgroup-lock-warmer';
import type { Readable } from 'node:stream';
import type { ContainerConfig, EndpointConfigBody, HostConfig } from '../wire/docker';
import type { ImageConfig, RuntimeSpec } from '../wire/oci';
import type { CreateOptions } from '../runtime/oci-runtime';
import type { ContainerNetwork, ContainerRecord } from './container-record';
import type { EventBus } from './events';
import type { HostResources } from '../host/resources';
import type { ContainerVolumes } from './container-mounts';
import type { LogConfig } from './log-drivers';
import type { PhaseTrace } from '../util/phase-trace';

export interface ImageRef { id: string; config: ImageConfig; repoTags: string[] }

/** What the container engine needs of the image service. */
export interface ImageLookup {
  resolve(ref: string): Promise<ImageRef>;
  lowerDirs(image: ImageRef): string[];
  commit(o: {
    upperDir: string; parent: ImageRef | null; containerId: string; containerConfig: ContainerConfig;
    repo?: string; tag?: string; comment?: string; author?: string; changes?: string[];
  }): Promise<string>;
  changes(upperDir: string, image: ImageRef): Promise<{ Path: string; Kind: number }[]>;
  /** A tar of a container's root filesystem at `root`; with `dev`, of what is on that device only (tarDirectory). */
  exportRootfs(root: string, dev?: number): Readable;
}

/** The OCI runtime as the container lifecycle drives it (runtime/oci-runtime.ts in production). */
export interface ContainerRuntime {
  /** The runtime's binary; throws for a runtime the daemon does not know. */
  runtimePath(name: string): string;
  /** Writes `spec` as the bundle's config.json (the runtime may add what it knows, e.g. a compiled seccomp filter). */
  writeBundle(runtime: string, id: string, bundle: string, spec: RuntimeSpec): Promise<void>;
  create(o: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  start(runtime: string, id: string): Promise<void>;
  kill(runtime: string, id: string, signal: string): Promise<void>;
  pause(runtime: string, id: string): Promise<void>;
  resume(runtime: string, id: string): Promise<void>;
  delete(runtime: string, id: string): Promise<void>;
}

/** The overlay mounts of container root filesystems (host/mount.ts in production). */
export interface RootfsMounter {
  mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void>;
  umount(target: string): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
  /** Whether an overlay (or another filesystem of its own) is mounted on `target`: cheaper than isMountPoint. */
  hasOwnFilesystem(target: string): Promise<boolean>;
}

/** Connects a readable stream to a running container's stdin (runtime/stdin.ts in production). */
export type StdinConnector = (attachSocketPath: string, input: Readable) => Promise<void>;

/** Cgroup facts read after a container exits (host/cgroups.ts in production). */
export interface CgroupProbe {
  oomKilled(cgroupsPath: string): Promise<boolean>;
}

/** A container's endpoints on networks (engine/network-endpoints.ts in production). */
export interface ContainerEndpoints {
  /** Checks a create request's network settings; the endpoints to record. */
  prepare(name: string, hc: HostConfig, config: ContainerConfig & { MacAddress?: string }, endpointsConfig?: Record<string, EndpointConfigBody | undefined>): ContainerNetwork;
  /** Namespace, interfaces, addresses and published ports, before the container starts. */
  attach(c: ContainerRecord): Promise<void>;
  /** Undoes attach when the container stops or is removed. */
  detach(c: ContainerRecord): Promise<void>;
  /** A moment into a container's run: berthd holds its network namespace, whose bind mount leaves the host. */
  hold(c: ContainerRecord): Promise<void>;
  specNetwork(c: ContainerRecord): 'host' | 'private' | { joinPath: string };
  /** The container whose network (and /etc/hosts, resolv.conf) a container:<name> container shares. */
  joinedContainer(c: ContainerRecord): ContainerRecord | undefined;
}

/** Names, links and resolvers of containers on networks (engine/network-dns.ts in production). */
export interface ContainerDns {
  hostsEntries(c: ContainerRecord): string;
  dnsServers(c: ContainerRecord): string[];
  hostGateway(): string;
  linkEnv(c: ContainerRecord): string[];
}

/** Bridge networks for containers; without them a container gets loopback only. */
export interface ContainerNetworking { endpoints: ContainerEndpoints; dns: ContainerDns }

/** What the container service is built on (daemon.ts gives the real ones; the unit tests give fakes). */
export interface ContainerServiceOptions {
  root: string;
  runRoot: string;
  images: ImageLookup;
  runtime: ContainerRuntime;
  mounter: RootfsMounter;
  events: EventBus;
  stdin: StdinConnector;
  cgroups?: CgroupProbe;
  /** Told that a container is about to start: the runtime's cgroup move then waits for no grace period (host/cgroup-lock-warmer.ts). */
  cgroupLockWarmer?: CgroupLockWarmer;
  /** The host's CPUs, cgroup features and berthd's own limits, that resource limits are checked against. */
  hostResources?: HostResources;
  defaultRuntime: string;
  /** The host's resolver configuration, copied into containers. */
  hostResolvConf: string;
  hostHosts: string;
  /** Size cap of each container's log before conmon starts it afresh (0 = none). */
  logSizeMax: number;
  /** daemon.json's log-driver and log-opts: the driver of a container that names none. */
  logDefaults?: LogConfig;
  log: { info(msg: string): void; error(msg: string): void };
  /** Volumes for the containers' mounts (engine/volumes.ts in production). */
  volumes: ContainerVolumes;
  /**
   * Bridge networks: endpoints with addresses and published ports (engine/network-endpoints.ts), names and links
   * (engine/network-dns.ts); without them a container gets loopback only.
   */
  networks?: ContainerNetworking;
  /** Phase timings of each container's life, create to removal (BERTH_TRACE=1); off when absent. */
  trace?: PhaseTrace;
}
