// `service create` flags → a ServiceSpec, and `service update` flags applied to the current spec, as
// docker/cli's ToService and updateService build them (names of secrets, configs and networks resolved first).
import { InvalidFlagError, labelsFrom, parseKeyValueFile } from '../container-options';
import type { ContainerSpec, NetworkAttachmentConfig, PortConfig, ServiceSpec, TaskSpec } from '../../wire/swarm';
import {
  FileRefFlag, configReference, durationFlag, healthConfig, mergeEnv, parseFileRef, parsePlacementPref, parsePublish,
  parseServiceMount, secretReference, serviceMode, splitCommand, swarmHost, uintFlag,
} from './service-flags';
import { ServiceFlags, resources, restartPolicy, updateConfig } from './service-options';

/** Name → ID lookups the spec needs from the daemon (a fake in unit tests). */
export interface SpecResolver {
  secretIds(names: string[]): Promise<Record<string, string>>;
  configIds(names: string[]): Promise<Record<string, string>>;
  networkId(name: string): Promise<string>;
}

const optInt = (name: string, v: string | undefined) => (v === undefined ? undefined : uintFlag(name, v));

async function fileRefs(values: string[], kind: 'secret' | 'config', resolver: SpecResolver) {
  const refs = values.map((v) => parseFileRef(v, kind));
  if (!refs.length) return undefined;
  const ids = kind === 'secret' ? await resolver.secretIds(refs.map((r) => r.source)) : await resolver.configIds(refs.map((r) => r.source));
  const id = (r: FileRefFlag) => {
    const found = ids[r.source];
    if (!found) throw new InvalidFlagError(`${kind} not found: ${r.source}`);
    return found;
  };
  return refs.map((r) => ({ ref: r, id: id(r) }));
}

/** `--network name` or `--network name=x,alias=y,driver-opt=k=v`: targets resolved to IDs, sorted as docker sorts them. */
async function networks(values: string[], resolver: SpecResolver): Promise<NetworkAttachmentConfig[]> {
  const out: NetworkAttachmentConfig[] = [];
  for (const v of values) {
    const n: NetworkAttachmentConfig = { Target: v };
    if (/^(name|alias|driver-opt)=/.test(v)) {
      n.Target = '';
      for (const f of v.split(',')) {
        const i = f.indexOf('=');
        const [k, val] = [f.slice(0, i), f.slice(i + 1)];
        if (k === 'name') n.Target = val;
        else if (k === 'alias') (n.Aliases ??= []).push(val);
        else if (k === 'driver-opt') { const j = val.indexOf('='); (n.DriverOpts ??= {})[val.slice(0, j)] = val.slice(j + 1); }
        else throw new InvalidFlagError(`invalid field key ${k}`);
      }
    }
    n.Target = await resolver.networkId(n.Target);
    out.push(n);
  }
  return out.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0));
}

/** `service create [OPTIONS] IMAGE [COMMAND] [ARG...]` → the spec the CLI posts. */
export async function createSpec(o: ServiceFlags, image: string, args: string[], resolver: SpecResolver, env: NodeJS.ProcessEnv = process.env): Promise<ServiceSpec> {
  const envFromFiles = (o.envFile ?? []).flatMap((f) => parseKeyValueFile(f, (k) => env[k]));
  const mode = serviceMode(o.mode ?? 'replicated', optInt('replicas', o.replicas), optInt('max-concurrent', o.maxConcurrent), optInt('replicas-max-per-node', o.replicasMaxPerNode));
  const update = updateConfig(o, 'update');
  const rollback = updateConfig(o, 'rollback');
  if ((mode.ReplicatedJob || mode.GlobalJob) && (update || rollback)) throw new InvalidFlagError('update and rollback configuration is not supported for jobs');
  const container: ContainerSpec = { Image: image, Init: !!o.init, DNSConfig: {} };
  if (args.length) container.Args = args;
  if (o.entrypoint !== undefined) container.Command = splitCommand(o.entrypoint);
  const envList = mergeEnv([], [...envFromFiles, ...(o.env ?? [])], env);
  if (envList.length) container.Env = envList;
  if (o.hostname) container.Hostname = o.hostname;
  if (o.containerLabel?.length) container.Labels = labelsFrom(o.containerLabel);
  if (o.workdir) container.Dir = o.workdir;
  if (o.user) container.User = o.user;
  if (o.group?.length) container.Groups = o.group;
  if (o.stopSignal) container.StopSignal = o.stopSignal;
  if (o.tty) container.TTY = true;
  if (o.readOnly) container.ReadOnly = true;
  if (o.mount?.length) container.Mounts = o.mount.map(parseServiceMount);
  if (o.dns?.length) container.DNSConfig!.Nameservers = o.dns;
  if (o.dnsSearch?.length) container.DNSConfig!.Search = o.dnsSearch;
  if (o.dnsOption?.length) container.DNSConfig!.Options = o.dnsOption;
  if (o.host?.length) container.Hosts = o.host.map(swarmHost);
  if (o.stopGracePeriod !== undefined) container.StopGracePeriod = durationFlag('stop-grace-period', o.stopGracePeriod);
  const health = healthConfig(o);
  if (health) container.Healthcheck = health;
  const secrets = await fileRefs(o.secret ?? [], 'secret', resolver);
  if (secrets) container.Secrets = secrets.map(({ ref, id }) => secretReference(ref, id));
  const configs = await fileRefs(o.config ?? [], 'config', resolver);
  if (configs) container.Configs = configs.map(({ ref, id }) => configReference(ref, id));

  const task: TaskSpec = {
    ContainerSpec: container,
    Resources: resources(o),
    Placement: {},
  };
  const nets = await networks(o.network ?? [], resolver);
  if (nets.length) task.Networks = nets;
  const restart = restartPolicy(o);
  if (restart) task.RestartPolicy = restart;
  if (o.constraint?.length) task.Placement!.Constraints = o.constraint;
  if (o.placementPref?.length) task.Placement!.Preferences = o.placementPref.map(parsePlacementPref);
  const maxPerNode = optInt('replicas-max-per-node', o.replicasMaxPerNode);
  if (maxPerNode) task.Placement!.MaxReplicas = maxPerNode;
  if (o.logDriver) task.LogDriver = { Name: o.logDriver, ...(o.logOpt?.length ? { Options: labelsFrom(o.logOpt) } : {}) };

  const spec: ServiceSpec = { Labels: labelsFrom(o.label ?? []), TaskTemplate: task, Mode: mode, EndpointSpec: { Mode: endpointMode(o.endpointMode ?? 'vip') } };
  if (o.name) spec.Name = o.name;
  if (update) spec.UpdateConfig = update;
  if (rollback) spec.RollbackConfig = rollback;
  const ports = (o.publish ?? []).flatMap(parsePublish);
  if (ports.length) spec.EndpointSpec!.Ports = ports;
  return spec;
}

function endpointMode(mode: string): 'vip' | 'dnsrr' {
  if (mode !== 'vip' && mode !== 'dnsrr') throw new InvalidFlagError(`invalid endpoint mode: ${mode}`);
  return mode;
}

/** A list updated as updateService does: entries whose key is in `rm` go, `add` entries replace same-key ones. */
function updateList<T>(current: T[] | undefined, add: T[], rmKeys: string[], key: (t: T) => string): T[] | undefined {
  if (!add.length && !rmKeys.length) return current;
  const addKeys = new Set(add.map(key));
  const kept = (current ?? []).filter((t) => !rmKeys.includes(key(t)) && !addKeys.has(key(t)));
  const out = [...kept, ...add];
  return out.length ? out : undefined;
}

function updateMap(current: Record<string, string> | undefined, add: string[] | undefined, rm: string[] | undefined): Record<string, string> | undefined {
  if (!add?.length && !rm?.length) return current;
  const out = { ...(current ?? {}) };
  for (const k of rm ?? []) delete out[k];
  Object.assign(out, labelsFrom(add ?? []));
  return out;
}

/** A port's identity for --publish-rm: `80`, `80/udp` or the target of a long form. */
function portKey(p: PortConfig): string {
  return `${p.TargetPort}/${p.Protocol ?? 'tcp'}`;
}

function publishRmKey(v: string): string {
  if (v.includes('=')) {
    const p = parsePublish(v)[0]!;
    return portKey(p);
  }
  const [port, proto = 'tcp'] = v.split('/');
  const target = port!.includes(':') ? port!.slice(port!.lastIndexOf(':') + 1) : port!;
  return `${target}/${proto}`;
}

/** `service update` flags applied to a copy of the current spec (docker's updateService). */
export async function updateSpec(current: ServiceSpec, o: ServiceFlags, resolver: SpecResolver, env: NodeJS.ProcessEnv = process.env): Promise<ServiceSpec> {
  const spec: ServiceSpec = structuredClone(current);
  const task = spec.TaskTemplate;
  const c: ContainerSpec = (task.ContainerSpec ??= { Image: '' });
  if (o.image !== undefined) c.Image = o.image;
  if (o.args !== undefined) c.Args = splitCommand(o.args);
  if (o.entrypoint !== undefined) c.Command = splitCommand(o.entrypoint);
  if (o.envAdd?.length || o.envRm?.length) {
    const kept = (c.Env ?? []).filter((e) => !(o.envRm ?? []).includes(e.split('=')[0]!));
    const merged = mergeEnv(kept, o.envAdd ?? [], env);
    c.Env = merged.length ? merged : undefined;
  }
  spec.Labels = updateMap(spec.Labels, o.labelAdd, o.labelRm) ?? {};
  c.Labels = updateMap(c.Labels, o.containerLabelAdd, o.containerLabelRm);
  if (o.hostname !== undefined) c.Hostname = o.hostname;
  if (o.workdir !== undefined) c.Dir = o.workdir;
  if (o.user !== undefined) c.User = o.user;
  if (o.stopSignal !== undefined) c.StopSignal = o.stopSignal;
  if (o.tty) c.TTY = true;
  if (o.readOnly) c.ReadOnly = true;
  if (o.init) c.Init = true;
  if (o.stopGracePeriod !== undefined) c.StopGracePeriod = durationFlag('stop-grace-period', o.stopGracePeriod);
  c.Groups = updateList(c.Groups, o.groupAdd ?? [], o.groupRm ?? [], (g) => g);
  c.Mounts = updateList(c.Mounts, (o.mountAdd ?? []).map(parseServiceMount), o.mountRm ?? [], (m) => m.Target);
  c.Hosts = updateList(c.Hosts, (o.hostAdd ?? []).map(swarmHost), (o.hostRm ?? []).map((h) => (h.includes(':') ? swarmHost(h) : h)),
    (h) => h);
  if (o.dnsAdd || o.dnsRm || o.dnsSearchAdd || o.dnsSearchRm || o.dnsOptionAdd || o.dnsOptionRm) {
    const d = (c.DNSConfig ??= {});
    d.Nameservers = updateList(d.Nameservers, o.dnsAdd ?? [], o.dnsRm ?? [], (s) => s);
    d.Search = updateList(d.Search, o.dnsSearchAdd ?? [], o.dnsSearchRm ?? [], (s) => s);
    d.Options = updateList(d.Options, o.dnsOptionAdd ?? [], o.dnsOptionRm ?? [], (s) => s);
  }
  const health = healthConfig(o);
  if (health) c.Healthcheck = { ...(health.Test?.[0] === 'NONE' ? {} : c.Healthcheck ?? {}), ...health };
  const secrets = await fileRefs(o.secretAdd ?? [], 'secret', resolver);
  c.Secrets = updateList(c.Secrets, (secrets ?? []).map(({ ref, id }) => secretReference(ref, id)), o.secretRm ?? [], (s) => s.SecretName);
  const configs = await fileRefs(o.configAdd ?? [], 'config', resolver);
  c.Configs = updateList(c.Configs, (configs ?? []).map(({ ref, id }) => configReference(ref, id)), o.configRm ?? [], (s) => s.ConfigName);

  task.Resources = resources(o, task.Resources);
  task.RestartPolicy = restartPolicy(o, task.RestartPolicy);
  const placement = (task.Placement ??= {});
  placement.Constraints = updateList(placement.Constraints, o.constraintAdd ?? [], o.constraintRm ?? [], (s) => s);
  placement.Preferences = updateList(placement.Preferences, (o.placementPrefAdd ?? []).map(parsePlacementPref),
    (o.placementPrefRm ?? []).map((p) => parsePlacementPref(p).Spread.SpreadDescriptor), (p) => p.Spread.SpreadDescriptor);
  if (o.replicasMaxPerNode !== undefined) placement.MaxReplicas = uintFlag('replicas-max-per-node', o.replicasMaxPerNode);
  if (o.networkAdd?.length || o.networkRm?.length) {
    const rmIds = await Promise.all((o.networkRm ?? []).map((n) => resolver.networkId(n)));
    const added = await networks(o.networkAdd ?? [], resolver);
    task.Networks = updateList(task.Networks ?? spec.Networks, added, [...rmIds, ...(o.networkRm ?? [])], (n) => n.Target);
    delete spec.Networks;
  }
  if (o.logDriver !== undefined) task.LogDriver = { Name: o.logDriver, ...(o.logOpt?.length ? { Options: labelsFrom(o.logOpt) } : {}) };

  if (o.replicas !== undefined) {
    const n = uintFlag('replicas', o.replicas);
    if (spec.Mode?.Replicated) spec.Mode.Replicated.Replicas = n;
    else if (spec.Mode?.ReplicatedJob) spec.Mode.ReplicatedJob.TotalCompletions = n;
    else throw new InvalidFlagError('replicas can only be used with replicated or replicated-job mode');
  }
  if (o.maxConcurrent !== undefined) {
    if (!spec.Mode?.ReplicatedJob) throw new InvalidFlagError('max-concurrent can only be used with replicated-job mode');
    spec.Mode.ReplicatedJob.MaxConcurrent = uintFlag('max-concurrent', o.maxConcurrent);
  }
  spec.UpdateConfig = updateConfig(o, 'update', spec.UpdateConfig);
  spec.RollbackConfig = updateConfig(o, 'rollback', spec.RollbackConfig);

  if (o.publishAdd?.length || o.publishRm?.length || o.endpointMode !== undefined) {
    const ep = (spec.EndpointSpec ??= {});
    if (o.endpointMode !== undefined) ep.Mode = endpointMode(o.endpointMode);
    const added = (o.publishAdd ?? []).flatMap(parsePublish);
    ep.Ports = updateList(ep.Ports, added, (o.publishRm ?? []).map(publishRmKey), portKey);
  }
  if (o.force) task.ForceUpdate = (task.ForceUpdate ?? 0) + 1;
  return dropUndefined(spec);
}

/** JSON drops undefined anyway; this keeps unit-test comparisons honest. */
function dropUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
