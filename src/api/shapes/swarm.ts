// Declared shapes of the swarm-mode bodies (moby's api/types/swarm: InitRequest, JoinRequest, Spec, UnlockRequest,
// NodeSpec, ServiceSpec with its TaskTemplate tree, SecretSpec, ConfigSpec), with the Go types dockerd decodes into.
import { anyJson, array, bool, float, int, map, str, struct } from './decode';
import { healthConfig, mount } from './containers';

const strings = array(str);
const labels = map(str);
const driver = struct('Driver', { Name: str, Options: map(str) }, 'swarm.Driver');
const empty = struct('', {}, 'struct {}');

// ----------------------------------------------------------------------------------------------- swarm

export const swarmSpec = struct('Spec', {
  Name: str, Labels: labels,
  Orchestration: struct('OrchestrationConfig', { TaskHistoryRetentionLimit: int('int64') }, 'swarm.OrchestrationConfig'),
  Raft: struct('RaftConfig', {
    SnapshotInterval: int('uint64'), KeepOldSnapshots: int('uint64'), LogEntriesForSlowFollowers: int('uint64'),
    ElectionTick: int('int'), HeartbeatTick: int('int'),
  }, 'swarm.RaftConfig'),
  Dispatcher: struct('DispatcherConfig', { HeartbeatPeriod: int('int64') }, 'swarm.DispatcherConfig'),
  CAConfig: struct('CAConfig', {
    NodeCertExpiry: int('int64'),
    ExternalCAs: array(struct('ExternalCA', { Protocol: str, URL: str, Options: map(str), CACert: str }, 'swarm.ExternalCA')),
    SigningCACert: str, SigningCAKey: str, ForceRotate: int('uint64'),
  }, 'swarm.CAConfig'),
  TaskDefaults: struct('TaskDefaults', { LogDriver: driver }, 'swarm.TaskDefaults'),
  EncryptionConfig: struct('EncryptionConfig', { AutoLockManagers: bool }, 'swarm.EncryptionConfig'),
}, 'swarm.Spec');

export const initRequest = struct('InitRequest', {
  ListenAddr: str, AdvertiseAddr: str, DataPathAddr: str, DataPathPort: int('uint32'), ForceNewCluster: bool, Spec: swarmSpec,
  AutoLockManagers: bool, Availability: str, DefaultAddrPool: strings, SubnetSize: int('uint32'),
}, 'swarm.InitRequest');

export const joinRequest = struct('JoinRequest', {
  ListenAddr: str, AdvertiseAddr: str, DataPathAddr: str, RemoteAddrs: strings, JoinToken: str, Availability: str,
}, 'swarm.JoinRequest');

export const unlockRequest = struct('UnlockRequest', { UnlockKey: str }, 'swarm.UnlockRequest');

// ----------------------------------------------------------------------------------------------- nodes

export const nodeSpec = struct('NodeSpec', { Name: str, Labels: labels, Role: str, Availability: str }, 'swarm.NodeSpec');

// -------------------------------------------------------------------------------------------- services

const genericResource = struct('GenericResource', {
  NamedResourceSpec: struct('NamedGenericResource', { Kind: str, Value: str }, 'swarm.NamedGenericResource'),
  DiscreteResourceSpec: struct('DiscreteGenericResource', { Kind: str, Value: int('int64') }, 'swarm.DiscreteGenericResource'),
}, 'swarm.GenericResource');

const fileTarget = struct('SecretReferenceFileTarget', { Name: str, UID: str, GID: str, Mode: int('uint32') }, 'swarm.SecretReferenceFileTarget');

const privileges = struct('Privileges', {
  CredentialSpec: struct('CredentialSpec', { Config: str, File: str, Registry: str }, 'swarm.CredentialSpec'),
  SELinuxContext: struct('SELinuxContext', { Disable: bool, User: str, Role: str, Type: str, Level: str }, 'swarm.SELinuxContext'),
  Seccomp: struct('SeccompOpts', { Mode: str, Profile: anyJson }, 'swarm.SeccompOpts'),
  AppArmor: struct('AppArmorOpts', { Mode: str }, 'swarm.AppArmorOpts'),
  NoNewPrivileges: bool,
}, 'swarm.Privileges');

export const containerSpec = struct('ContainerSpec', {
  Image: str, Labels: labels, Command: strings, Args: strings, Hostname: str, Env: strings, Dir: str, User: str, Groups: strings,
  Privileges: privileges, Init: bool, StopSignal: str, TTY: bool, OpenStdin: bool, ReadOnly: bool, Mounts: array(mount),
  StopGracePeriod: int('int64'), Healthcheck: healthConfig, Hosts: strings,
  DNSConfig: struct('DNSConfig', { Nameservers: strings, Search: strings, Options: strings }, 'swarm.DNSConfig'),
  Secrets: array(struct('SecretReference', { File: fileTarget, SecretID: str, SecretName: str }, 'swarm.SecretReference')),
  Configs: array(struct('ConfigReference', {
    File: struct('ConfigReferenceFileTarget', { Name: str, UID: str, GID: str, Mode: int('uint32') }, 'swarm.ConfigReferenceFileTarget'),
    Runtime: empty, ConfigID: str, ConfigName: str,
  }, 'swarm.ConfigReference')),
  Isolation: str, Sysctls: map(str), CapabilityAdd: strings, CapabilityDrop: strings,
  Ulimits: array(struct('Ulimit', { Name: str, Hard: int('int64'), Soft: int('int64') }, 'container.Ulimit')), OomScoreAdj: int('int64'),
}, 'swarm.ContainerSpec');

const resources = struct('Resources', { NanoCPUs: int('int64'), MemoryBytes: int('int64'), Pids: int('int64'), GenericResources: array(genericResource) }, 'swarm.Resources');
const limit = struct('Limit', { NanoCPUs: int('int64'), MemoryBytes: int('int64'), Pids: int('int64') }, 'swarm.Limit');

const networkAttachment = struct('NetworkAttachmentConfig', { Target: str, Aliases: strings, DriverOpts: map(str) }, 'swarm.NetworkAttachmentConfig');

export const taskSpec = struct('TaskSpec', {
  ContainerSpec: containerSpec,
  PluginSpec: anyJson,
  NetworkAttachmentSpec: struct('NetworkAttachmentSpec', { ContainerID: str }, 'swarm.NetworkAttachmentSpec'),
  Resources: struct('ResourceRequirements', { Limits: limit, Reservations: resources, MemorySwap: int('int64'), MemorySwappiness: int('int64') }, 'swarm.ResourceRequirements'),
  RestartPolicy: struct('RestartPolicy', { Condition: str, Delay: int('int64'), MaxAttempts: int('uint64'), Window: int('int64') }, 'swarm.RestartPolicy'),
  Placement: struct('Placement', {
    Constraints: strings,
    Preferences: array(struct('PlacementPreference', { Spread: struct('SpreadOver', { SpreadDescriptor: str }, 'swarm.SpreadOver') }, 'swarm.PlacementPreference')),
    MaxReplicas: int('uint64'),
    Platforms: array(struct('Platform', { Architecture: str, OS: str }, 'swarm.Platform')),
  }, 'swarm.Placement'),
  Networks: array(networkAttachment),
  LogDriver: driver,
  ForceUpdate: int('uint64'),
  Runtime: str,
}, 'swarm.TaskSpec');

const updateConfig = struct('UpdateConfig', {
  Parallelism: int('uint64'), Delay: int('int64'), FailureAction: str, Monitor: int('int64'), MaxFailureRatio: float, Order: str,
}, 'swarm.UpdateConfig');

export const serviceSpec = struct('ServiceSpec', {
  Name: str, Labels: labels,
  TaskTemplate: taskSpec,
  Mode: struct('ServiceMode', {
    Replicated: struct('ReplicatedService', { Replicas: int('uint64') }, 'swarm.ReplicatedService'),
    Global: empty,
    ReplicatedJob: struct('ReplicatedJob', { MaxConcurrent: int('uint64'), TotalCompletions: int('uint64') }, 'swarm.ReplicatedJob'),
    GlobalJob: empty,
  }, 'swarm.ServiceMode'),
  UpdateConfig: updateConfig,
  RollbackConfig: updateConfig,
  Networks: array(networkAttachment),
  EndpointSpec: struct('EndpointSpec', {
    Mode: str,
    Ports: array(struct('PortConfig', { Name: str, Protocol: str, TargetPort: int('uint32'), PublishedPort: int('uint32'), PublishMode: str }, 'swarm.PortConfig')),
  }, 'swarm.EndpointSpec'),
}, 'swarm.ServiceSpec');

// -------------------------------------------------------------------------------------- secrets, configs

/** Data is Go's []byte: a base64 string in JSON (checked by the spec rules, as Go's decoder would refuse bad base64). */
export const secretSpec = struct('SecretSpec', { Name: str, Labels: labels, Data: str, Driver: driver, Templating: driver }, 'swarm.SecretSpec');
export const configSpec = struct('ConfigSpec', { Name: str, Labels: labels, Data: str, Templating: driver }, 'swarm.ConfigSpec');
