// A ServiceSpec checked as dockerd's converter and swarmkit's controlapi check it (their texts and error kinds), and
// normalised to what swarmkit stores and reads back (defaults filled; fields the client sent echoed as sent).
// Looking things up in the store (networks, secrets, configs, port use) is the backend's: hooks below.
import { InvalidParameterError } from '../../errdefs';
import { parseNormalizedNamed } from '../../wire/reference';
import type { ConfigReference, SecretReference, ServiceSpec, UpdateConfig } from '../../wire/swarm';
import { parseConstraints } from './constraints';
import { invalidArgument, unimplemented } from './errors';
import { randomServiceName } from './names';

const DNS_COMPONENT = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
const MIN_DURATION_NS = 1_000_000;
const MIN_NANO_CPUS = 1e6;
const MIN_MEMORY = 4 * 1024 * 1024;

export interface ServiceSpecOptions {
  /** For an empty name: whether a random name is taken already. */
  nameTaken?: (name: string) => boolean;
}

/** The service's mode as a word (the `mode` filter's values, and the mode-change check). */
export function modeOf(spec: ServiceSpec): 'replicated' | 'global' | 'replicated-job' | 'global-job' {
  const m = spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.ReplicatedJob) return 'replicated-job';
  if (m.GlobalJob) return 'global-job';
  return 'replicated';
}

export function isJob(spec: ServiceSpec): boolean {
  const m = modeOf(spec);
  return m === 'replicated-job' || m === 'global-job';
}

/**
 * Checks `input` and returns the spec as stored: dockerd's conversion errors first (plain, 400), then swarmkit's
 * (`rpc error: code = InvalidArgument ...`, 400; a constraint's syntax is Unknown, 500). Does not modify `input`.
 */
export function normaliseServiceSpec(input: ServiceSpec, options: ServiceSpecOptions = {}): ServiceSpec {
  const spec = structuredClone(input) as ServiceSpec;
  spec.Labels = spec.Labels ?? {};
  if (!spec.TaskTemplate) spec.TaskTemplate = {};
  const task = spec.TaskTemplate;
  // dockerd's convert.ServiceSpecToGRPC.
  if (task.Runtime && task.Runtime !== 'container') throw new InvalidParameterError('unsupported runtime');
  if (!task.ContainerSpec) throw new InvalidParameterError('mismatched Runtime and *Spec fields');
  const ep = spec.EndpointSpec;
  if (ep) {
    const mode = ep.Mode || 'vip';
    if (mode !== 'vip' && mode !== 'dnsrr') throw new InvalidParameterError(`invalid resolution mode: ${JSON.stringify(ep.Mode)}`);
    ep.Mode = mode;
    for (const p of ep.Ports ?? []) {
      p.Protocol = (p.Protocol || 'tcp') as typeof p.Protocol;
      p.PublishMode = (p.PublishMode || 'ingress') as typeof p.PublishMode;
    }
  }
  normaliseMode(spec);
  const swap = (task.Resources as { MemorySwap?: number } | undefined)?.MemorySwap;
  if (swap && !task.Resources?.Limits?.MemoryBytes) throw new InvalidParameterError('memory swap provided, but no memory-limit was set');
  if (task.RestartPolicy) {
    const c = task.RestartPolicy.Condition || 'any';
    if (!['none', 'on-failure', 'any'].includes(c)) throw new InvalidParameterError(`invalid RestartCondition: ${JSON.stringify(task.RestartPolicy.Condition)}`);
    task.RestartPolicy.Condition = c;
    task.RestartPolicy.MaxAttempts = task.RestartPolicy.MaxAttempts ?? 0;
  }
  if (spec.UpdateConfig) spec.UpdateConfig = normaliseUpdateConfig(spec.UpdateConfig);
  if (spec.RollbackConfig) spec.RollbackConfig = normaliseUpdateConfig(spec.RollbackConfig);
  // The deprecated service-level networks become the task's, as swarmkit reads either.
  if (spec.Networks?.length && !task.Networks?.length) task.Networks = spec.Networks;
  delete spec.Networks;

  // swarmkit's controlapi.validateServiceSpec.
  if (!spec.Name) spec.Name = randomServiceName(options.nameTaken);
  else checkServiceName(spec.Name);
  for (const r of [task.Resources?.Limits, task.Resources?.Reservations]) {
    if (!r) continue;
    if (r.NanoCPUs && r.NanoCPUs < MIN_NANO_CPUS) throw invalidArgument(`invalid cpu value ${goFloat(r.NanoCPUs / 1e9)}: Must be at least 0.001`);
    if (r.MemoryBytes && r.MemoryBytes < MIN_MEMORY) throw invalidArgument(`invalid memory value ${r.MemoryBytes}: Must be at least 4MiB`);
  }
  if ((task.RestartPolicy?.Delay ?? 0) < 0) throw invalidArgument('TaskSpec: restart-delay cannot be negative');
  if ((task.RestartPolicy?.Window ?? 0) < 0) throw invalidArgument('TaskSpec: restart-window cannot be negative');
  if (task.Placement?.Constraints) parseConstraints(task.Placement.Constraints);
  checkContainerSpec(spec);
  checkFileTargets('secret', task.ContainerSpec!.Secrets ?? [], (r) => r.SecretName);
  checkFileTargets('config', task.ContainerSpec!.Configs ?? [], (r) => r.ConfigName);
  if (isJob(spec)) {
    if (spec.UpdateConfig) throw invalidArgument('Jobs may not have an update config');
  } else if (spec.UpdateConfig) {
    checkUpdateConfig(spec.UpdateConfig);
  }
  if (ep) checkEndpointSpec(ep);

  // How swarmkit reads a service back.
  task.Runtime = 'container';
  task.ForceUpdate = task.ForceUpdate ?? 0;
  const cs = task.ContainerSpec!;
  cs.Isolation = cs.Isolation || 'default';
  if (cs.Labels && !Object.keys(cs.Labels).length) delete cs.Labels;
  for (const n of task.Networks ?? []) {
    if (n.Aliases && !n.Aliases.length) delete n.Aliases;
    if (n.DriverOpts && !Object.keys(n.DriverOpts).length) delete n.DriverOpts;
  }
  return spec;
}

export function checkServiceName(name: string): void {
  if (!DNS_COMPONENT.test(name)) throw invalidArgument('name must be valid as a DNS name component');
  if (name.length > 63) throw invalidArgument('name must be 63 characters or fewer');
}

/** Go's %g for the cpu message (0.0001, 1e-05). */
function goFloat(n: number): string {
  return n !== 0 && Math.abs(n) < 1e-4 ? n.toExponential().replace(/e-(\d)$/, 'e-0$1') : String(n);
}

function normaliseMode(spec: ServiceSpec): void {
  const m = spec.Mode ?? {};
  const given = (['Replicated', 'Global', 'ReplicatedJob', 'GlobalJob'] as const).filter((k) => m[k] !== undefined && m[k] !== null);
  if (given.length > 1) throw new InvalidParameterError('must specify only one service mode');
  if (!given.length) {
    spec.Mode = { Replicated: { Replicas: 1 } };
    return;
  }
  if (m.Replicated) m.Replicated.Replicas = m.Replicated.Replicas ?? 1;
  if (m.ReplicatedJob) {
    const max = m.ReplicatedJob.MaxConcurrent ?? 1;
    m.ReplicatedJob.MaxConcurrent = max;
    m.ReplicatedJob.TotalCompletions = m.ReplicatedJob.TotalCompletions ?? max;
  }
  spec.Mode = { [given[0]!]: m[given[0]!] };
}

function normaliseUpdateConfig(u: UpdateConfig): UpdateConfig {
  const action = u.FailureAction || 'pause';
  if (!['pause', 'continue', 'rollback'].includes(action)) throw new InvalidParameterError(`unrecognized update failure action ${u.FailureAction}`);
  const order = u.Order || 'stop-first';
  if (order !== 'stop-first' && order !== 'start-first') throw new InvalidParameterError(`unrecognized update order ${u.Order}`);
  const out: UpdateConfig = { ...u, Parallelism: u.Parallelism ?? 0, FailureAction: action, MaxFailureRatio: u.MaxFailureRatio ?? 0, Order: order };
  if (!out.Delay) delete out.Delay;
  if (!out.Monitor) delete out.Monitor;
  return out;
}

function checkUpdateConfig(u: UpdateConfig): void {
  if ((u.Delay ?? 0) < 0) throw invalidArgument('TaskSpec: update-delay cannot be negative');
  if ((u.Monitor ?? 0) < 0) throw invalidArgument('TaskSpec: update-monitor cannot be negative');
  if (u.MaxFailureRatio < 0 || u.MaxFailureRatio > 1) throw invalidArgument('TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1');
}

function checkContainerSpec(spec: ServiceSpec): void {
  const cs = spec.TaskTemplate.ContainerSpec!;
  if (!cs.Image) throw invalidArgument('ContainerSpec: image reference must be provided');
  try {
    parseNormalizedNamed(cs.Image);
  } catch {
    throw invalidArgument(`ContainerSpec: ${JSON.stringify(cs.Image)} is not a valid repository/tag`);
  }
  const targets = new Set<string>();
  for (const m of cs.Mounts ?? []) {
    if (targets.has(m.Target)) throw invalidArgument(`ContainerSpec: duplicate mount point: ${m.Target}`);
    targets.add(m.Target);
  }
  const h = cs.Healthcheck;
  if (h) {
    for (const field of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
      const v = h[field];
      if (v && v < MIN_DURATION_NS) throw invalidArgument(`ContainerSpec: ${field} in HealthConfig cannot be less than 1ms`);
    }
    if ((h.Retries ?? 0) < 0) throw invalidArgument('ContainerSpec: Retries in HealthConfig cannot be negative');
  }
}

function checkFileTargets<R extends SecretReference | ConfigReference>(kind: 'secret' | 'config', refs: readonly R[], nameOf: (r: R) => string): void {
  const byTarget = new Map<string, string>();
  for (const r of refs) {
    const id = 'SecretID' in r ? r.SecretID : (r as ConfigReference).ConfigID;
    if (!id || !nameOf(r)) throw invalidArgument(`malformed ${kind} reference`);
    if (!r.File) {
      if (kind === 'secret') throw invalidArgument('malformed secret reference, no target provided');
      if (!(r as ConfigReference).Runtime) throw invalidArgument('malformed config reference, no target provided');
      continue;
    }
    const target = r.File.Name;
    if (!target || target.includes('\0')) throw invalidArgument(`malformed file ${kind} reference, invalid target file name provided`);
    const prev = byTarget.get(target);
    if (prev !== undefined) throw invalidArgument(`${kind} references '${prev}' and '${nameOf(r)}' have a conflicting target: '${target}'`);
    byTarget.set(target, nameOf(r));
  }
}

function checkEndpointSpec(ep: NonNullable<ServiceSpec['EndpointSpec']>): void {
  const seen = new Set<string>();
  for (const p of ep.Ports ?? []) {
    if (ep.Mode === 'dnsrr' && p.PublishMode === 'ingress') throw invalidArgument("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
    if (!p.PublishedPort) continue;
    const key = `${p.PublishedPort}/${p.Protocol}`;
    if (seen.has(key)) throw invalidArgument('EndpointSpec: duplicate published ports provided');
    seen.add(key);
  }
}

/** An update may change neither the name nor the mode (swarmkit's 501s). */
export function checkServiceUpdate(current: ServiceSpec, next: ServiceSpec): void {
  if ((current.Name ?? '') !== (next.Name ?? '')) throw unimplemented('renaming services is not supported');
  if (modeOf(current) !== modeOf(next)) throw unimplemented('service mode change is not allowed');
}

/** Published ports of another service this spec would take (swarmkit's checkPortConflicts). */
export function checkPortConflicts(spec: ServiceSpec, others: readonly { ID: string; Spec: ServiceSpec }[]): void {
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (!p.PublishedPort) continue;
    for (const o of others) {
      for (const q of o.Spec.EndpointSpec?.Ports ?? []) {
        if (q.PublishedPort !== p.PublishedPort || (q.Protocol || 'tcp') !== (p.Protocol || 'tcp')) continue;
        const theirs = q.PublishMode || 'ingress';
        // Host-mode ports may be shared (the scheduler keeps them apart); anything touching ingress may not.
        if (theirs === 'host' && p.PublishMode === 'host') continue;
        const as = theirs === 'ingress' ? 'an ingress port' : 'a host-published port';
        throw invalidArgument(`port '${p.PublishedPort}' is already in use by service '${o.Spec.Name}' (${o.ID}) as ${as}`);
      }
    }
  }
}

/**
 * Rewrites each network attachment's Target (name or ID) to the network's ID through `resolve`, which raises the
 * backend's own errors (not found, not swarm-scoped 403, ingress 400).
 */
export async function resolveNetworkTargets(spec: ServiceSpec, resolve: (target: string) => Promise<string>): Promise<void> {
  for (const n of spec.TaskTemplate.Networks ?? []) n.Target = await resolve(n.Target);
}

/**
 * Every secret/config reference must name an existing object whose name matches (`find` gives the stored name
 * for an ID): else `secret not found: a` / `secrets not found: a, b`.
 */
export async function checkReferencesExist(kind: 'secret' | 'config', spec: ServiceSpec, find: (id: string) => Promise<string | undefined>): Promise<void> {
  const cs = spec.TaskTemplate.ContainerSpec;
  const refs: { id: string; name: string }[] = kind === 'secret'
    ? (cs?.Secrets ?? []).map((r) => ({ id: r.SecretID, name: r.SecretName }))
    : (cs?.Configs ?? []).map((r) => ({ id: r.ConfigID, name: r.ConfigName }));
  const missing: string[] = [];
  for (const r of refs) {
    if ((await find(r.id)) !== r.name) missing.push(r.name);
  }
  if (missing.length) throw invalidArgument(`${kind}${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`);
}
