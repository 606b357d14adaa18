// Declared shapes of the container create body (moby's container.CreateRequest: Config, HostConfig, NetworkingConfig),
// with the Go types dockerd unmarshals them into, so a wrong type is refused with Go's words before the engine.
import { array, bool, int, map, oneOf, str, struct } from './decode';

const strings = array(str);
/** moby's strslice.StrSlice: a string or a list of strings. */
const strSlice = oneOf(str, strings);
const empty = struct('', {}, 'struct {}');

export const healthConfig = struct('HealthConfig', {
  Test: strings, Interval: int('int64'), Timeout: int('int64'), StartPeriod: int('int64'), StartInterval: int('int64'), Retries: int('int'),
}, 'container.HealthConfig');

export const containerConfigFields = {
  Hostname: str, Domainname: str, User: str, AttachStdin: bool, AttachStdout: bool, AttachStderr: bool, ExposedPorts: map(empty),
  Tty: bool, OpenStdin: bool, StdinOnce: bool, Env: strings, Cmd: strSlice, Healthcheck: healthConfig, ArgsEscaped: bool, Image: str,
  Volumes: map(empty), WorkingDir: str, Entrypoint: strSlice, NetworkDisabled: bool, MacAddress: str, OnBuild: strings, Labels: map(str),
  StopSignal: str, StopTimeout: int('int'), Shell: strings,
};

const weightDevice = struct('WeightDevice', { Path: str, Weight: int('uint16') }, 'blkiodev.WeightDevice');
const throttleDevice = struct('ThrottleDevice', { Path: str, Rate: int('uint64') }, 'blkiodev.ThrottleDevice');

/** moby's container.Resources, inlined in HostConfig and the whole of an update body. */
export const resourcesFields = {
  CpuShares: int('int64'), Memory: int('int64'), NanoCpus: int('int64'), CgroupParent: str, BlkioWeight: int('uint16'),
  BlkioWeightDevice: array(weightDevice), BlkioDeviceReadBps: array(throttleDevice), BlkioDeviceWriteBps: array(throttleDevice),
  BlkioDeviceReadIOps: array(throttleDevice), BlkioDeviceWriteIOps: array(throttleDevice), CpuPeriod: int('int64'), CpuQuota: int('int64'),
  CpuRealtimePeriod: int('int64'), CpuRealtimeRuntime: int('int64'), CpusetCpus: str, CpusetMems: str,
  Devices: array(struct('DeviceMapping', { PathOnHost: str, PathInContainer: str, CgroupPermissions: str }, 'container.DeviceMapping')),
  DeviceCgroupRules: strings, DeviceRequests: array(struct('DeviceRequest', { Driver: str, Count: int('int'), DeviceIDs: strings, Capabilities: array(strings), Options: map(str) }, 'container.DeviceRequest')),
  KernelMemory: int('int64'), KernelMemoryTCP: int('int64'), MemoryReservation: int('int64'), MemorySwap: int('int64'), MemorySwappiness: int('int64'),
  OomKillDisable: bool, PidsLimit: int('int64'), Ulimits: array(struct('Ulimit', { Name: str, Hard: int('int64'), Soft: int('int64') }, 'container.Ulimit')),
  CpuCount: int('int64'), CpuPercent: int('int64'), IOMaximumIOps: int('uint64'), IOMaximumBandwidth: int('uint64'),
};

export const restartPolicy = struct('RestartPolicy', { Name: str, MaximumRetryCount: int('int') }, 'container.RestartPolicy');

export const mount = struct('Mount', {
  Type: str, Source: str, Target: str, ReadOnly: bool, Consistency: str,
  BindOptions: struct('BindOptions', { Propagation: str, NonRecursive: bool, CreateMountpoint: bool, ReadOnlyNonRecursive: bool, ReadOnlyForceRecursive: bool }, 'mount.BindOptions'),
  VolumeOptions: struct('VolumeOptions', { NoCopy: bool, Labels: map(str), Subpath: str, DriverConfig: struct('Driver', { Name: str, Options: map(str) }, 'mount.Driver') }, 'mount.VolumeOptions'),
  TmpfsOptions: struct('TmpfsOptions', { SizeBytes: int('int64'), Mode: int('uint32'), Options: array(strings) }, 'mount.TmpfsOptions'),
}, 'mount.Mount');

export const hostConfig = struct('HostConfig', {
  ...resourcesFields,
  Binds: strings, ContainerIDFile: str, LogConfig: struct('LogConfig', { Type: str, Config: map(str) }, 'container.LogConfig'), NetworkMode: str,
  PortBindings: map(array(struct('PortBinding', { HostIp: str, HostPort: str }, 'nat.PortBinding'))), RestartPolicy: restartPolicy,
  AutoRemove: bool, VolumeDriver: str, VolumesFrom: strings, ConsoleSize: array(int('uint')), Annotations: map(str), CapAdd: strSlice,
  CapDrop: strSlice, CgroupnsMode: str, Dns: strings, DnsOptions: strings, DnsSearch: strings, ExtraHosts: strings, GroupAdd: strings,
  IpcMode: str, Cgroup: str, Links: strings, OomScoreAdj: int('int'), PidMode: str, Privileged: bool, PublishAllPorts: bool,
  ReadonlyRootfs: bool, SecurityOpt: strings, StorageOpt: map(str), Tmpfs: map(str), UTSMode: str, UsernsMode: str, ShmSize: int('int64'),
  Sysctls: map(str), Runtime: str, Isolation: str, Mounts: array(mount), MaskedPaths: strings, ReadonlyPaths: strings, Init: bool,
}, 'container.HostConfig');

export const endpointSettings = struct('EndpointSettings', {
  IPAMConfig: struct('EndpointIPAMConfig', { IPv4Address: str, IPv6Address: str, LinkLocalIPs: strings }, 'network.EndpointIPAMConfig'),
  Links: strings, Aliases: strings, DriverOpts: map(str), GwPriority: int('int'), NetworkID: str, EndpointID: str, Gateway: str, IPAddress: str,
  MacAddress: str, IPPrefixLen: int('int'), IPv6Gateway: str, GlobalIPv6Address: str, GlobalIPv6PrefixLen: int('int'), DNSNames: strings,
}, 'network.EndpointSettings');

/** POST /containers/create. */
export const containerCreate = struct('CreateRequest', {
  ...containerConfigFields,
  HostConfig: hostConfig,
  NetworkingConfig: struct('NetworkingConfig', { EndpointsConfig: map(endpointSettings) }, 'network.NetworkingConfig'),
}, 'container.CreateRequest');

/** POST /containers/{id}/update: Resources and a restart policy. */
export const containerUpdate = struct('UpdateConfig', { ...resourcesFields, RestartPolicy: restartPolicy }, 'container.UpdateConfig');

