// A service of the model → the body of POST /containers/create, as Compose v2's getCreateConfigs writes it:
// config, host config (mounts, ports, limits, restart policy) and the endpoint on the service's first network
// (the others are connected before start, see secondaryNetworks).
import * as path from 'node:path';
import type { ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, MountSpec, PortBinding, RestartPolicy } from '../../wire/docker';
import { parseGoDuration } from '../../wire/durations';
import { splitProtoPort } from '../../wire/ports';
import { ramInBytes } from '../../util/units';
import type { Mapping, Project, Service, ServiceFileRef, ServiceNetwork } from '../model';
import { containerName, ComposeProjectError } from './naming';

export interface ContainerBodyInput {
  /** The image reference the container runs (the ID's tag name, as Compose passes it). */
  image: string;
  labels: Record<string, string>;
  /** Include the service's ports (false for `run` without --service-ports). */
  ports: boolean;
  /** The process environment null values are resolved from. */
  env?: NodeJS.ProcessEnv;
  /** Container names of other services' replicas, for links/volumes_from/network_mode service:x (default: <svc>-1). */
  containerOf?: (service: string) => string;
}

/** `environment` with null values resolved from the shell or dropped (Compose's resolution of `- FOO`). */
export function resolveEnvironment(env: Mapping | undefined, shell: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    const value = v ?? shell[k];
    if (value !== undefined) out.push(`${k}=${value}`);
  }
  return out;
}

function durationNs(service: Service, field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try { return parseGoDuration(value); } catch (err) {
    throw new ComposeProjectError(`services.${service.name}.${field}: ${(err as Error).message}`);
  }
}

function healthcheck(service: Service): HealthConfig | undefined {
  const h = service.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  return {
    Test: h.test,
    Interval: durationNs(service, 'healthcheck.interval', h.interval),
    Timeout: durationNs(service, 'healthcheck.timeout', h.timeout),
    StartPeriod: durationNs(service, 'healthcheck.start_period', h.start_period),
    StartInterval: durationNs(service, 'healthcheck.start_interval', h.start_interval),
    Retries: h.retries,
  };
}

function restartPolicy(service: Service): RestartPolicy | undefined {
  if (service.restart) {
    const [name, count] = service.restart.split(':');
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
      throw new ComposeProjectError(`services.${service.name}.restart: invalid restart policy "${service.restart}"`);
    }
    return { Name: name as RestartPolicy['Name'], MaximumRetryCount: count ? Number(count) : 0 };
  }
  const p = service.deploy?.restart_policy;
  if (p) {
    const name = p.condition === 'any' || p.condition === undefined ? 'always' : p.condition === 'none' ? 'no' : 'on-failure';
    return { Name: name, MaximumRetryCount: p.max_attempts ?? 0 };
  }
  return undefined;
}

function portBindings(service: Service): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const p of service.ports ?? []) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  return { exposed, bindings };
}

function exposedPorts(service: Service, into: Record<string, object>): void {
  for (const e of service.expose ?? []) {
    const [proto, port] = splitProtoPort(String(e));
    into[`${port}/${proto}`] = {};
  }
}

/** Where a secret or config lands: /run/secrets/<target|name> or /<target|name> (a relative target is under those). */
function fileTarget(kind: 'secrets' | 'configs', ref: ServiceFileRef): string {
  const base = kind === 'secrets' ? '/run/secrets' : '/';
  if (!ref.target) return path.posix.join(base, ref.source);
  return path.posix.isAbsolute(ref.target) ? ref.target : path.posix.join(base, ref.target);
}

/** A secret or config whose content is not a file on the host (`environment:`, `content:`), copied in after create. */
export interface InjectedFile { path: string; content: string; mode: number; uid?: string; gid?: string }

function eachFileRef(project: Project, service: Service, fn: (kind: 'secrets' | 'configs', ref: ServiceFileRef, obj: Project['secrets'][string]) => void): void {
  for (const kind of ['secrets', 'configs'] as const) {
    for (const ref of service[kind] ?? []) {
      const obj = project[kind][ref.source];
      if (!obj) throw new ComposeProjectError(`services.${service.name}.${kind}: ${kind.slice(0, -1)} "${ref.source}" is not defined in the project`);
      if (obj.external) throw new ComposeProjectError(`services.${service.name}.${kind}: ${kind.slice(0, -1)} "${ref.source}" is external; only file, environment and content ${kind} are supported without swarm`);
      fn(kind, ref, obj);
    }
  }
}

/** File-based secrets and configs: read-only bind mounts of the host file. */
function fileMounts(project: Project, service: Service): MountSpec[] {
  const mounts: MountSpec[] = [];
  eachFileRef(project, service, (kind, ref, obj) => {
    if (obj.file) mounts.push({ Type: 'bind', Source: obj.file, Target: fileTarget(kind, ref), ReadOnly: true });
  });
  return mounts;
}

/** Secrets and configs from an environment variable or inline content: written into the container (Compose v2 copies them in). */
export function injectedFiles(project: Project, service: Service, shell: NodeJS.ProcessEnv): InjectedFile[] {
  const files: InjectedFile[] = [];
  eachFileRef(project, service, (kind, ref, obj) => {
    if (obj.file) return;
    let content = obj.content;
    if (obj.environment !== undefined) {
      content = shell[obj.environment];
      if (content === undefined) throw new ComposeProjectError(`services.${service.name}.${kind}: ${kind.slice(0, -1)} "${ref.source}" comes from environment variable ${obj.environment}, which is not set`);
    }
    files.push({ path: fileTarget(kind, ref), content: content ?? '', mode: ref.mode ?? 0o444, uid: ref.uid, gid: ref.gid });
  });
  return files;
}

function volumeMounts(project: Project, service: Service): { binds: string[]; mounts: MountSpec[] } {
  const binds: string[] = [];
  const mounts: MountSpec[] = [];
  for (const v of service.volumes ?? []) {
    if (v.type === 'bind') {
      // Binds make the daemon create a missing host path, as Compose's default create_host_path: true.
      const simple = v.bind?.create_host_path !== false && !v.bind?.propagation && !v.consistency;
      if (simple) {
        const opts = [v.read_only ? 'ro' : '', v.bind?.selinux ?? ''].filter(Boolean).join(',');
        binds.push(`${v.source}:${v.target}${opts ? `:${opts}` : ''}`);
      } else {
        mounts.push({ Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.read_only || undefined, BindOptions: v.bind?.propagation ? { Propagation: v.bind.propagation } : undefined });
      }
    } else if (v.type === 'volume') {
      let source: string | undefined;
      if (v.source) {
        const declared = project.volumes[v.source];
        if (!declared) throw new ComposeProjectError(`services.${service.name}.volumes: service "${service.name}" refers to undefined volume ${v.source}: invalid compose project`);
        source = declared.name;
      }
      const opts = v.volume && (v.volume.nocopy || v.volume.subpath) ? { NoCopy: v.volume.nocopy || undefined, Subpath: v.volume.subpath } : undefined;
      mounts.push({ Type: 'volume', Source: source, Target: v.target, ReadOnly: v.read_only || undefined, VolumeOptions: opts });
    } else if (v.type === 'tmpfs') {
      const t = v.tmpfs && (v.tmpfs.size !== undefined || v.tmpfs.mode !== undefined) ? { SizeBytes: v.tmpfs.size, Mode: v.tmpfs.mode } : undefined;
      mounts.push({ Type: 'tmpfs', Target: v.target, TmpfsOptions: t });
    } else {
      throw new ComposeProjectError(`services.${service.name}.volumes: volume type "${v.type}" is not supported`);
    }
  }
  return { binds, mounts };
}

/** The service's networks in Compose's order: priority (highest first), then name. */
export function serviceNetworks(project: Project, service: Service): [key: string, config: ServiceNetwork][] {
  if (service.network_mode) return [];
  const declared = service.networks && Object.keys(service.networks).length ? service.networks : { default: null };
  const list = Object.entries(declared).map(([k, c]) => [k, c ?? {}] as [string, ServiceNetwork]);
  for (const [k] of list) {
    if (!project.networks[k]) throw new ComposeProjectError(`services.${service.name}.networks: service "${service.name}" refers to undefined network ${k}: invalid compose project`);
  }
  return list.sort(([a, ca], [b, cb]) => (cb.priority ?? 0) - (ca.priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}

export function endpointFor(service: Service, config: ServiceNetwork): EndpointSettings {
  const e: EndpointSettings = { Aliases: [service.name, ...(config.aliases ?? [])] };
  if (config.ipv4_address || config.ipv6_address) e.IPAMConfig = { IPv4Address: config.ipv4_address, IPv6Address: config.ipv6_address };
  if (config.mac_address) e.MacAddress = config.mac_address;
  return e;
}

/** The networks connected after create and before start (all but the first). */
export function secondaryNetworks(project: Project, service: Service): { name: string; endpoint: EndpointSettings }[] {
  return serviceNetworks(project, service).slice(1).map(([k, c]) => ({ name: project.networks[k].name, endpoint: endpointFor(service, c) }));
}

function networkMode(project: Project, service: Service, containerOf: (s: string) => string): string | undefined {
  const mode = service.network_mode;
  if (!mode) {
    const first = serviceNetworks(project, service)[0];
    return first ? project.networks[first[0]].name : undefined;
  }
  if (mode.startsWith('service:')) return `container:${containerOf(mode.slice('service:'.length))}`;
  return mode;
}

/** `service[:mode]` names the service's first container; `container:name[:mode]` a container as is. */
function volumesFrom(spec: string, containerOf: (s: string) => string): string {
  if (spec.startsWith('container:')) return spec.slice('container:'.length);
  const [svc, mode] = spec.replace(/^service:/, '').split(':');
  return mode ? `${containerOf(svc)}:${mode}` : containerOf(svc);
}

function cpus(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  return Math.round(Number(value) * 1e9);
}

export function containerBody(project: Project, service: Service, input: ContainerBodyInput): ContainerCreateBody {
  const shell = input.env ?? process.env;
  const containerOf = input.containerOf ?? ((s: string) => {
    const other = project.services[s];
    return other ? containerName(project, other, 1) : `${project.name}-${s}-1`;
  });
  const { exposed, bindings } = input.ports ? portBindings(service) : { exposed: {}, bindings: {} };
  exposedPorts(service, exposed);
  const { binds, mounts } = volumeMounts(project, service);
  mounts.push(...fileMounts(project, service));
  const tmpfs: Record<string, string> = {};
  for (const t of service.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = ''; else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }
  const limits = service.deploy?.resources?.limits;
  const reservations = service.deploy?.resources?.reservations;
  const memory = service.mem_limit ?? limits?.memory;
  const host: HostConfig = {
    Binds: binds.length ? binds : undefined,
    Mounts: mounts.length ? mounts : undefined,
    PortBindings: Object.keys(bindings).length ? bindings : undefined,
    RestartPolicy: restartPolicy(service),
    CapAdd: service.cap_add,
    CapDrop: service.cap_drop,
    Privileged: service.privileged,
    ReadonlyRootfs: service.read_only,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Ulimits: service.ulimits ? Object.entries(service.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) : undefined,
    Init: service.init,
    ExtraHosts: service.extra_hosts,
    Dns: service.dns,
    DnsSearch: service.dns_search,
    DnsOptions: service.dns_opt,
    LogConfig: service.logging ? { Type: service.logging.driver ?? '', Config: service.logging.options ?? {} } : undefined,
    Links: service.links?.map((l) => {
      const [svc, alias] = l.split(':');
      return `${project.services[svc] ? containerOf(svc) : svc}:${alias ?? svc}`;
    }).concat(service.external_links ?? []),
    Sysctls: service.sysctls,
    SecurityOpt: service.security_opt,
    ShmSize: service.shm_size ? ramInBytes(service.shm_size) : undefined,
    PidMode: service.pid,
    IpcMode: service.ipc,
    NetworkMode: networkMode(project, service, containerOf),
    Memory: memory ? ramInBytes(memory) : undefined,
    MemoryReservation: reservations?.memory ? ramInBytes(reservations.memory) : undefined,
    NanoCpus: cpus(service.cpus ?? limits?.cpus),
    PidsLimit: limits?.pids,
    GroupAdd: service.group_add,
    VolumesFrom: service.volumes_from?.map((v) => volumesFrom(v, containerOf)),
    Devices: service.devices?.map((d) => {
      const [onHost, inContainer, perms] = d.split(':');
      return { PathOnHost: onHost, PathInContainer: inContainer ?? onHost, CgroupPermissions: perms ?? 'rwm' };
    }),
  };
  const endpoints: Record<string, EndpointSettings> = {};
  const first = serviceNetworks(project, service)[0];
  if (first) endpoints[project.networks[first[0]].name] = endpointFor(service, first[1]);
  const stopGrace = durationNs(service, 'stop_grace_period', service.stop_grace_period);
  return dropUndefined({
    Image: input.image,
    Cmd: service.command ?? undefined,
    Entrypoint: service.entrypoint ?? undefined,
    Env: resolveEnvironment(service.environment, shell),
    Labels: input.labels,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Hostname: service.hostname,
    Domainname: service.domainname,
    User: service.user,
    WorkingDir: service.working_dir,
    Tty: service.tty,
    OpenStdin: service.stdin_open,
    StopSignal: service.stop_signal,
    StopTimeout: stopGrace === undefined ? undefined : Math.round(stopGrace / 1e9),
    Healthcheck: healthcheck(service),
    HostConfig: dropUndefined(host),
    NetworkingConfig: Object.keys(endpoints).length ? { EndpointsConfig: endpoints } : undefined,
  });
}

/** Leaves out absent fields so the body reads as the docker CLI's (and tests compare it whole). */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
