// A task → its container: the name, the com.docker.swarm.* labels and the engine's create body from the task's
// ContainerSpec, as moby's swarm executor builds them (daemon/cluster/executor/container/container.go): templates
// expanded, no restart policy (swarm restarts tasks), limits but no reservations, host-mode ports only, secrets
// and configs as read-only binds of files the agent wrote.
import type { ContainerCreateBody, EndpointSettings, HostConfig, MountSpec, PortBinding } from '../../wire/docker';
import type { ContainerSpec, EndpointSpec, GenericResource, Task } from '../../wire/swarm';
import { SECOND_NS } from '../../wire/swarm';
import { parseNormalizedNamed } from '../../wire/reference';
import { expandEnv, expandTemplate, type TemplateContext } from './task-templates';

export const LABEL_TASK = 'com.docker.swarm.task';
export const LABEL_TASK_ID = 'com.docker.swarm.task.id';
export const LABEL_TASK_NAME = 'com.docker.swarm.task.name';
export const LABEL_NODE_ID = 'com.docker.swarm.node.id';
export const LABEL_SERVICE_ID = 'com.docker.swarm.service.id';
export const LABEL_SERVICE_NAME = 'com.docker.swarm.service.name';

/** Swarmkit's default StopGracePeriod. */
export const DEFAULT_STOP_GRACE_SECONDS = 10;

export interface TaskServiceInfo { ID: string; Name: string; Labels: Record<string, string>; EndpointSpec?: EndpointSpec }
export interface TaskNodeInfo { ID: string; Hostname: string; Platform: { OS: string; Architecture: string } }

/**
 * A network the task's container joins on this node: `name` is the engine's reference to it (a swarm network's ID, a
 * predefined network's name), with the task's aliases and the address the manager gave it there.
 */
export interface TaskNetwork { id: string; name: string; aliases: string[]; ipv4Address?: string; driverOpts?: Record<string, string> }

/** A secret or config file written on the host, to bind read-only at `target`. */
export interface TaskFileMount { hostPath: string; target: string }

export interface TaskContainerInput {
  task: Task;
  service: TaskServiceInfo;
  node: TaskNodeInfo;
  networks: TaskNetwork[];
  files: TaskFileMount[];
}

/** The slot part of names and templates: the slot, or the node ID for global tasks and 0-based job slots. */
export function slotOf(task: Task): string {
  return task.Slot ? String(task.Slot) : task.NodeID ?? '';
}

/** `<service>.<slot>.<task id>` (the task's own Name wins when it has one). */
export function taskContainerName(task: Task, serviceName: string): string {
  return task.Name || `${serviceName}.${slotOf(task)}.${task.ID}`;
}

export function templateContext(task: Task, service: TaskServiceInfo, node: TaskNodeInfo): TemplateContext {
  return {
    Service: { ID: service.ID, Name: service.Name, Labels: service.Labels },
    Node: { ID: node.ID, Hostname: node.Hostname, Platform: node.Platform },
    Task: { ID: task.ID, Name: taskContainerName(task, service.Name), Slot: slotOf(task) },
  };
}

/** The image with ":latest" when it names neither tag nor digest, in its familiar form. */
export function taskImage(image: string): string {
  try {
    return parseNormalizedNamed(image).withDefaultTag().familiar();
  } catch {
    return image; // the create refuses it with the engine's words
  }
}

/** Where a secret's file goes: /run/secrets/<File.Name>, or File.Name itself when absolute. */
export function secretTarget(fileName: string): string {
  return fileName.startsWith('/') ? fileName : `/run/secrets/${fileName}`;
}

/** Where a config's file goes: File.Name, under / when relative. */
export function configTarget(fileName: string): string {
  return fileName.startsWith('/') ? fileName : `/${fileName}`;
}

export function stopGraceSeconds(spec: ContainerSpec | undefined): number {
  const ns = spec?.StopGracePeriod;
  return ns === undefined ? DEFAULT_STOP_GRACE_SECONDS : Math.max(0, Math.ceil(ns / SECOND_NS));
}

export function taskLabels(task: Task, service: TaskServiceInfo): Record<string, string> {
  return {
    ...(task.Spec.ContainerSpec?.Labels ?? {}),
    ...(task.Labels ?? {}),
    [LABEL_TASK]: '',
    [LABEL_TASK_ID]: task.ID,
    [LABEL_TASK_NAME]: taskContainerName(task, service.Name),
    [LABEL_NODE_ID]: task.NodeID ?? '',
    [LABEL_SERVICE_ID]: task.ServiceID,
    [LABEL_SERVICE_NAME]: service.Name,
  };
}

/** The container's name and create body. Throws (InvalidParameterError) on a template that does not expand. */
export function taskContainer(input: TaskContainerInput): { name: string; body: ContainerCreateBody } {
  const { task, service, node } = input;
  const spec: ContainerSpec = task.Spec.ContainerSpec ?? { Image: '' };
  const context = templateContext(task, service, node);
  const name = taskContainerName(task, service.Name);

  const body: ContainerCreateBody = {
    Image: taskImage(spec.Image),
    Labels: taskLabels(task, service),
    Env: [...expandEnv(spec.Env ?? [], context), ...resourceEnv(task.GenericResources)],
    Tty: spec.TTY ?? false,
    OpenStdin: spec.OpenStdin ?? false,
    StopTimeout: stopGraceSeconds(spec),
  };
  // Command replaces the image's entrypoint; Args alone keep it (moby's container.cmd/entrypoint).
  if (spec.Command?.length) {
    body.Entrypoint = [...spec.Command];
    body.Cmd = [...(spec.Args ?? [])];
  } else if (spec.Args?.length) {
    body.Cmd = [...spec.Args];
  }
  if (spec.Hostname) body.Hostname = expandTemplate(spec.Hostname, context);
  if (spec.Dir) body.WorkingDir = spec.Dir;
  if (spec.User) body.User = spec.User;
  if (spec.StopSignal) body.StopSignal = spec.StopSignal;
  if (spec.Healthcheck) body.Healthcheck = { ...spec.Healthcheck };

  const hostConfig: HostConfig = {
    // Swarm restarts tasks itself: the engine must not.
    RestartPolicy: { Name: 'no' },
    Mounts: [...(spec.Mounts ?? []).map((m) => mountOf(m, context)), ...input.files.map(bindOf)],
  };
  if (spec.Groups?.length) hostConfig.GroupAdd = [...spec.Groups];
  if (spec.ReadOnly) hostConfig.ReadonlyRootfs = true;
  if (spec.Init !== undefined) hostConfig.Init = spec.Init;
  if (spec.Sysctls && Object.keys(spec.Sysctls).length) hostConfig.Sysctls = { ...spec.Sysctls };
  if (spec.CapabilityAdd?.length) hostConfig.CapAdd = [...spec.CapabilityAdd];
  if (spec.CapabilityDrop?.length) hostConfig.CapDrop = [...spec.CapabilityDrop];
  if (spec.Ulimits?.length) hostConfig.Ulimits = spec.Ulimits.map((u) => ({ ...u }));
  if (spec.OomScoreAdj) hostConfig.OomScoreAdj = spec.OomScoreAdj;
  const hosts = extraHosts(spec.Hosts ?? []);
  if (hosts.length) hostConfig.ExtraHosts = hosts;
  if (spec.DNSConfig?.Nameservers?.length) hostConfig.Dns = [...spec.DNSConfig.Nameservers];
  if (spec.DNSConfig?.Search?.length) hostConfig.DnsSearch = [...spec.DNSConfig.Search];
  if (spec.DNSConfig?.Options?.length) hostConfig.DnsOptions = [...spec.DNSConfig.Options];
  const securityOpt = securityOptions(spec.Privileges);
  if (securityOpt.length) hostConfig.SecurityOpt = securityOpt;
  const limits = task.Spec.Resources?.Limits;
  if (limits?.NanoCPUs) hostConfig.NanoCpus = limits.NanoCPUs;
  if (limits?.MemoryBytes) hostConfig.Memory = limits.MemoryBytes;
  if (limits?.Pids) hostConfig.PidsLimit = limits.Pids;
  if (task.Spec.LogDriver?.Name) {
    hostConfig.LogConfig = { Type: task.Spec.LogDriver.Name, ...(task.Spec.LogDriver.Options ? { Config: { ...task.Spec.LogDriver.Options } } : {}) };
  }

  const ports = hostPorts(service.EndpointSpec);
  if (ports.exposed.length) {
    body.ExposedPorts = Object.fromEntries(ports.exposed.map((p) => [p, {}]));
    hostConfig.PortBindings = ports.bindings;
  }

  const [first, ...rest] = input.networks;
  if (first) {
    hostConfig.NetworkMode = first.name;
    const endpoints: Record<string, EndpointSettings> = {};
    // Aliases are refused on the predefined networks (host has no endpoint, the default bridge no aliases).
    for (const n of input.networks) {
      if (n.name === 'host' || n.name === 'bridge' || n.name === 'none') continue;
      endpoints[n.name] = {
        Aliases: [...n.aliases],
        ...(n.ipv4Address ? { IPAMConfig: { IPv4Address: n.ipv4Address } } : {}),
        ...(n.driverOpts ? { DriverOpts: { ...n.driverOpts } } : {}),
      };
    }
    if (rest.length || Object.keys(endpoints).length) body.NetworkingConfig = { EndpointsConfig: endpoints };
  }
  body.HostConfig = hostConfig;
  return { name, body };
}

function mountOf(m: NonNullable<ContainerSpec['Mounts']>[number], context: TemplateContext): MountSpec {
  const out: MountSpec = { ...m, Target: expandTemplate(m.Target, context) } as MountSpec;
  if (m.Source !== undefined) out.Source = expandTemplate(m.Source, context);
  return out;
}

function bindOf(f: TaskFileMount): MountSpec {
  return { Type: 'bind', Source: f.hostPath, Target: f.target, ReadOnly: true };
}

/** hosts(5) "IP name [aliases]" → the engine's "name:IP" (aliases dropped, as moby's executor). */
function extraHosts(entries: string[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const parts = entry.trim().split(/\s+/);
    if (parts.length > 1) out.push(`${parts[1]}:${parts[0]}`);
  }
  return out;
}

/** DOCKER_RESOURCE_<KIND> for generic resources assigned to the task (named: their names, discrete: the count). */
function resourceEnv(resources: GenericResource[] | undefined): string[] {
  const named = new Map<string, string[]>();
  const out: string[] = [];
  for (const r of resources ?? []) {
    if (r.NamedResourceSpec) named.set(r.NamedResourceSpec.Kind, [...(named.get(r.NamedResourceSpec.Kind) ?? []), r.NamedResourceSpec.Value]);
    if (r.DiscreteResourceSpec) out.push(`DOCKER_RESOURCE_${r.DiscreteResourceSpec.Kind.toUpperCase()}=${r.DiscreteResourceSpec.Value}`);
  }
  for (const [kind, values] of named) out.push(`DOCKER_RESOURCE_${kind.toUpperCase()}=${values.join(',')}`);
  return out;
}

/** Privileges → SecurityOpt, as moby's executor: SELinux labels, seccomp, AppArmor, no-new-privileges. */
function securityOptions(privileges: Record<string, unknown> | undefined): string[] {
  if (!privileges) return [];
  const out: string[] = [];
  const selinux = privileges.SELinuxContext as { Disable?: boolean; User?: string; Role?: string; Type?: string; Level?: string } | null | undefined;
  if (selinux?.Disable) out.push('label=disable');
  else if (selinux) {
    for (const [key, value] of [['user', selinux.User], ['role', selinux.Role], ['type', selinux.Type], ['level', selinux.Level]] as const) {
      if (value) out.push(`label=${key}:${value}`);
    }
  }
  const seccomp = privileges.Seccomp as { Mode?: string; Profile?: string } | null | undefined;
  if (seccomp?.Mode === 'unconfined') out.push('seccomp=unconfined');
  else if (seccomp?.Mode === 'custom' && seccomp.Profile) out.push(`seccomp=${Buffer.from(seccomp.Profile, 'base64').toString()}`);
  const apparmor = privileges.AppArmor as { Mode?: string } | null | undefined;
  if (apparmor?.Mode === 'disabled') out.push('apparmor=unconfined');
  if (privileges.NoNewPrivileges === true) out.push('no-new-privileges=true');
  return out;
}

/** Host-mode published ports as the engine's ExposedPorts and PortBindings (ingress ports are the mesh's). */
function hostPorts(endpoint: EndpointSpec | undefined): { exposed: string[]; bindings: Record<string, PortBinding[]> } {
  const exposed: string[] = [];
  const bindings: Record<string, PortBinding[]> = {};
  for (const p of endpoint?.Ports ?? []) {
    if (p.PublishMode !== 'host' || !p.TargetPort) continue;
    const key = `${p.TargetPort}/${p.Protocol || 'tcp'}`;
    if (!exposed.includes(key)) exposed.push(key);
    (bindings[key] ??= []).push({ HostIp: '', HostPort: p.PublishedPort ? String(p.PublishedPort) : '' });
  }
  return { exposed, bindings };
}
