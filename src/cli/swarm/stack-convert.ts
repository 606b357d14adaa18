// A Compose project (Berth's own loader's model) → what `stack deploy` creates: overlay networks, secrets,
// configs and service specs, named and labelled as docker/cli's cli/compose/convert does (`<stack>_<name>`,
// com.docker.stack.namespace on everything, com.docker.stack.image on services).
import { readFileSync } from 'node:fs';
import type { FileObject, Healthcheck, Project, Service as ComposeService } from '../../compose/model';
import { parseGoDuration } from '../../wire/durations';
import { ramInBytes } from '../../util/units';
import type { ConfigReference, HealthConfig, Mount, NetworkAttachmentConfig, PortConfig, RestartPolicy, SecretReference, ServiceMode, ServiceSpec, UpdateConfig } from '../../wire/swarm';

export const NAMESPACE_LABEL = 'com.docker.stack.namespace';
export const IMAGE_LABEL = 'com.docker.stack.image';

/** What deploy: holds beyond the model's typed part (the loader keeps the rest as written). */
interface DeployExtra {
  mode?: 'replicated' | 'global' | 'replicated-job' | 'global-job';
  endpoint_mode?: 'vip' | 'dnsrr';
  placement?: { constraints?: string[]; preferences?: { spread: string }[]; max_replicas_per_node?: number };
  update_config?: UpdateConfigYaml;
  rollback_config?: UpdateConfigYaml;
  restart_policy?: { condition?: string; delay?: string; max_attempts?: number; window?: string };
}
interface UpdateConfigYaml { parallelism?: number; delay?: string; failure_action?: string; monitor?: string; max_failure_ratio?: number; order?: string }

export interface NetworkCreate {
  Name: string; Driver: string; Labels: Record<string, string>; Options?: Record<string, string>;
  Internal: boolean; Attachable: boolean; IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[] };
}

export interface FileObjectCreate { Name: string; Labels: Record<string, string>; Data: string }

export interface StackPlan {
  networks: NetworkCreate[];
  /** External networks the stack uses: they must exist, swarm-scoped. */
  externalNetworks: string[];
  secrets: FileObjectCreate[];
  configs: FileObjectCreate[];
  /** Specs keyed by compose service name; secret/config references carry names, IDs filled at deploy. */
  services: Record<string, ServiceSpec>;
}

const ns = (stack: string, labels?: Record<string, string>) => ({ ...(labels ?? {}), [NAMESPACE_LABEL]: stack });
const dur = (v: string | undefined) => (v === undefined ? undefined : parseGoDuration(v));

/** A service's networks: its own list, or `default` when it names none. */
function serviceNetworks(svc: ComposeService): Record<string, { aliases?: string[] } | null> {
  return svc.networks && Object.keys(svc.networks).length ? svc.networks : { default: null };
}

function fileData(obj: FileObject, env: NodeJS.ProcessEnv): Buffer {
  if (obj.file) return readFileSync(obj.file);
  if (obj.environment !== undefined) return Buffer.from(env[obj.environment] ?? '');
  return Buffer.from(obj.content ?? '');
}

function updateConfig(u: UpdateConfigYaml | undefined): UpdateConfig | undefined {
  if (!u) return undefined;
  const c: UpdateConfig = { Parallelism: u.parallelism ?? 1, MaxFailureRatio: u.max_failure_ratio ?? 0 };
  if (u.delay !== undefined) c.Delay = dur(u.delay);
  if (u.failure_action !== undefined) c.FailureAction = u.failure_action as UpdateConfig['FailureAction'];
  if (u.monitor !== undefined) c.Monitor = dur(u.monitor);
  if (u.order !== undefined) c.Order = u.order as UpdateConfig['Order'];
  return c;
}

/** deploy.restart_policy, else `restart:` (convertRestartPolicy). */
function restartPolicy(svc: ComposeService, deploy: DeployExtra): RestartPolicy | undefined {
  const rp = deploy.restart_policy;
  if (rp) {
    const p: RestartPolicy = { Condition: (rp.condition ?? 'any') as RestartPolicy['Condition'] };
    if (rp.delay !== undefined) p.Delay = dur(rp.delay);
    if (rp.max_attempts !== undefined) p.MaxAttempts = rp.max_attempts;
    if (rp.window !== undefined) p.Window = dur(rp.window);
    return p;
  }
  if (!svc.restart) return undefined;
  const [name, count] = svc.restart.split(':');
  switch (name) {
    case 'no': return { Condition: 'none' };
    case 'always': case 'unless-stopped': return { Condition: 'any' };
    case 'on-failure': return { Condition: 'on-failure', ...(count ? { MaxAttempts: Number(count) } : {}) };
    default: throw new Error(`unknown restart policy: ${svc.restart}`);
  }
}

function healthcheck(h: Healthcheck | undefined): HealthConfig | undefined {
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const c: HealthConfig = {};
  if (h.test) c.Test = h.test;
  if (h.interval) c.Interval = dur(h.interval);
  if (h.timeout) c.Timeout = dur(h.timeout);
  if (h.start_period) c.StartPeriod = dur(h.start_period);
  if (h.start_interval) c.StartInterval = dur(h.start_interval);
  if (h.retries !== undefined) c.Retries = h.retries;
  return c;
}

function serviceMode(deploy: DeployExtra, replicas: number | undefined): ServiceMode {
  switch (deploy.mode ?? 'replicated') {
    case 'global': return { Global: {} };
    case 'global-job': return { GlobalJob: {} };
    case 'replicated-job': return { ReplicatedJob: replicas === undefined ? {} : { MaxConcurrent: replicas, TotalCompletions: replicas } };
    case 'replicated': return { Replicated: replicas === undefined ? {} : { Replicas: replicas } };
    default: throw new Error(`unknown mode: ${String(deploy.mode)}`);
  }
}

function ports(svc: ComposeService): PortConfig[] | undefined {
  if (!svc.ports?.length) return undefined;
  const out: PortConfig[] = [];
  for (const p of svc.ports) {
    const [from, to] = (p.published ?? '0').split('-').map(Number) as [number, number | undefined];
    for (let pub = from; pub <= (to ?? from); pub++) {
      out.push({ Protocol: p.protocol, TargetPort: p.target + (pub - from), PublishedPort: pub, PublishMode: p.mode, ...(p.name ? { Name: p.name } : {}) });
    }
  }
  return out;
}

function mounts(stack: string, project: Project, svc: ComposeService): Mount[] | undefined {
  if (!svc.volumes?.length && !svc.tmpfs?.length) return undefined;
  const out: Mount[] = (svc.volumes ?? []).map((v) => {
    const m: Mount = { Type: v.type === 'image' ? 'volume' : v.type, Target: v.target };
    if (v.read_only) m.ReadOnly = true;
    if (v.type === 'volume' && v.source) {
      const vol = project.volumes[v.source];
      m.Source = vol?.name ?? `${stack}_${v.source}`;
      m.VolumeOptions = { Labels: ns(stack, vol?.labels), ...(vol?.driver ? { DriverConfig: { Name: vol.driver, Options: vol.driver_opts } } : {}), ...(v.volume?.nocopy ? { NoCopy: true } : {}) };
    } else if (v.source) m.Source = v.source;
    if (v.type === 'tmpfs' && v.tmpfs) m.TmpfsOptions = { SizeBytes: v.tmpfs.size, Mode: v.tmpfs.mode };
    return m;
  });
  for (const t of svc.tmpfs ?? []) out.push({ Type: 'tmpfs', Target: t.split(':')[0]! });
  return out;
}

function fileRefs<T>(refs: ComposeService['secrets'], objects: Record<string, FileObject>, make: (name: string, target: string, r: { uid?: string; gid?: string; mode?: number }) => T): T[] | undefined {
  if (!refs?.length) return undefined;
  return refs.map((r) => {
    const obj = objects[r.source];
    if (!obj) throw new Error(`undefined secret or config "${r.source}"`);
    return make(obj.name, r.target ?? r.source, r);
  });
}

/** One compose service → its ServiceSpec (convertService). */
export function convertService(stack: string, project: Project, name: string, svc: ComposeService, env: NodeJS.ProcessEnv = process.env): ServiceSpec {
  const deploy = (svc.deploy ?? {}) as DeployExtra & NonNullable<ComposeService['deploy']>;
  const image = svc.image ?? '';
  const envList = Object.entries(svc.environment ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).sort();
  const dns = { ...(svc.dns?.length ? { Nameservers: svc.dns } : {}), ...(svc.dns_search?.length ? { Search: svc.dns_search } : {}), ...(svc.dns_opt?.length ? { Options: svc.dns_opt } : {}) };
  const networks: NetworkAttachmentConfig[] = Object.entries(serviceNetworks(svc)).map(([key, cfg]) => ({
    Target: project.networks[key]?.name ?? `${stack}_${key}`,
    Aliases: [name, ...(cfg?.aliases ?? [])],
  })).sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0));
  const secrets = fileRefs<SecretReference>(svc.secrets, project.secrets, (n, target, r) => ({
    File: { Name: target, UID: r.uid ?? '0', GID: r.gid ?? '0', Mode: r.mode ?? 0o444 }, SecretID: '', SecretName: n,
  }));
  const configs = fileRefs<ConfigReference>(svc.configs, project.configs, (n, target, r) => ({
    File: { Name: target, UID: r.uid ?? '0', GID: r.gid ?? '0', Mode: r.mode ?? 0o444 }, ConfigID: '', ConfigName: n,
  }));
  const limits = deploy.resources?.limits;
  const reservations = deploy.resources?.reservations;
  const cpus = (v: string | undefined) => (v === undefined ? undefined : Math.round(Number(v) * 1e9));
  const mem = (v: string | undefined) => (v === undefined ? undefined : ramInBytes(v));
  const strip = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
  const placement = deploy.placement;
  const spec: ServiceSpec = {
    Name: `${stack}_${name}`,
    Labels: { ...ns(stack, deploy.labels), [IMAGE_LABEL]: image },
    TaskTemplate: strip({
      ContainerSpec: {
        Image: image, Labels: ns(stack, svc.labels),
        Command: svc.entrypoint ?? undefined, Args: svc.command ?? undefined,
        Hostname: svc.hostname, Env: envList.length ? envList : undefined, Dir: svc.working_dir, User: svc.user,
        Groups: svc.group_add, StopSignal: svc.stop_signal, TTY: svc.tty, OpenStdin: svc.stdin_open, ReadOnly: svc.read_only,
        Init: svc.init, Mounts: mounts(stack, project, svc),
        StopGracePeriod: dur(svc.stop_grace_period), Healthcheck: healthcheck(svc.healthcheck),
        Hosts: svc.extra_hosts?.map((h) => { const i = h.search(/[:=]/); return `${h.slice(i + 1)} ${h.slice(0, i)}`; }),
        DNSConfig: Object.keys(dns).length ? dns : undefined,
        Secrets: secrets, Configs: configs, Sysctls: svc.sysctls, CapabilityAdd: svc.cap_add, CapabilityDrop: svc.cap_drop,
        Ulimits: svc.ulimits ? Object.entries(svc.ulimits).map(([n, l]) => ({ Name: n, Soft: l.soft, Hard: l.hard })) : undefined,
      },
      Resources: {
        Limits: { NanoCPUs: cpus(limits?.cpus), MemoryBytes: mem(limits?.memory), Pids: limits?.pids },
        Reservations: { NanoCPUs: cpus(reservations?.cpus), MemoryBytes: mem(reservations?.memory) },
      },
      RestartPolicy: restartPolicy(svc, deploy),
      Placement: {
        Constraints: placement?.constraints, MaxReplicas: placement?.max_replicas_per_node,
        Preferences: placement?.preferences?.map((p) => ({ Spread: { SpreadDescriptor: p.spread } })),
      },
      Networks: networks,
      LogDriver: svc.logging?.driver ? { Name: svc.logging.driver, Options: svc.logging.options } : undefined,
    }),
    Mode: serviceMode(deploy, deploy.replicas ?? svc.scale),
    EndpointSpec: strip({ Mode: deploy.endpoint_mode ?? 'vip', Ports: ports(svc) }),
  };
  const update = updateConfig(deploy.update_config);
  if (update) spec.UpdateConfig = update;
  const rollback = updateConfig(deploy.rollback_config);
  if (rollback) spec.RollbackConfig = rollback;
  return spec;
}

/** The whole plan: networks the services use (created unless external), file objects, service specs. */
export function convertStack(stack: string, project: Project, env: NodeJS.ProcessEnv = process.env): StackPlan {
  const used = new Set<string>();
  for (const svc of Object.values(project.services)) for (const key of Object.keys(serviceNetworks(svc))) used.add(key);
  const networks: NetworkCreate[] = [];
  const externalNetworks: string[] = [];
  for (const key of [...used].sort()) {
    const n = project.networks[key];
    if (n?.external) { externalNetworks.push(n.name); continue; }
    const create: NetworkCreate = {
      Name: n?.name ?? `${stack}_${key}`, Driver: n?.driver ?? 'overlay', Labels: ns(stack, n?.labels),
      Internal: !!n?.internal, Attachable: !!n?.attachable,
    };
    if (n?.driver_opts) create.Options = n.driver_opts;
    if (n?.ipam) create.IPAM = { Driver: n.ipam.driver, Config: (n.ipam.config ?? []).map((c) => JSON.parse(JSON.stringify({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway })) as { Subnet?: string }) };
    networks.push(create);
  }
  const files = (objects: Record<string, FileObject>) => Object.values(objects).filter((o) => !o.external)
    .map((o) => ({ Name: o.name, Labels: ns(stack), Data: fileData(o, env).toString('base64') }));
  const services: Record<string, ServiceSpec> = {};
  for (const [name, svc] of Object.entries(project.services)) services[name] = convertService(stack, project, name, svc, env);
  return { networks, externalNetworks, secrets: files(project.secrets), configs: files(project.configs), services };
}
