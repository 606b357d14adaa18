// The manager-only half of ClusterBackend: swarm, nodes, services, tasks, secrets and configs read and written in
// the store, with swarmkit's controlapi semantics on top of the spec checks of src/cluster/spec (service update
// keeps the previous spec, manual rollback swaps them, in-use checks, network targets as IDs, status counts).
import { expectedVersionFor, withSpecChange, withoutSpecBase, type SpecVersioned } from './store/spec-base';
import { PassThrough, type Readable } from 'node:stream';
import { NotFoundError } from '../errdefs';
import type { Filters } from '../wire/filters';
import type { Config, ConfigSpec, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Swarm, SwarmSpec, Task } from '../wire/swarm';
import type { ClusterLogStream, LogOptions, ServiceUpdateOptions } from './backend';
import { generateJoinToken } from './ca/tokens';
import { isOutdated } from './manager/updater';
import type { StoredCluster } from './stored-cluster';
import type { StoreConnection } from './ports';
import { alreadyExists, failedPrecondition, invalidArgument } from './spec/errors';
import { configMatcher, nodeMatcher, secretMatcher, serviceMatcher, taskMatcher } from './spec/filters';
import { newObjectId } from './spec/ids';
import { serviceWithDefaults } from './spec/insert-defaults';
import { lookup, nameOf } from './spec/lookup';
import { normaliseNodeSpec } from './spec/node-spec';
import { forRead, normaliseSecretSpec, updateSecretSpec, type SecretKind } from './spec/secret-spec';
import { checkPortConflicts, checkReferencesExist, checkServiceUpdate, isJob, modeOf, normaliseServiceSpec, resolveNetworkTargets } from './spec/service-spec';
import { swarmSpecForRead, updatedSwarmSpec } from './spec/swarm-spec';
import { NameConflict } from './store/objects';
import { StoreUnavailable } from './store/store';
import type { OverlayConfig } from './overlay/model';
import type { OverlayAllocator } from './overlay/allocator';
import { EtcdOverlayAllocator } from './overlay/allocator-etcd';
import { clusterAddressPool, SwarmNetworksApi } from './overlay/networks-api';
import { allocateEndpoint, releaseEndpoint, releaseStale } from './overlay/service-endpoints';

/** A service as stored: the API's Service plus the registry auth it was created with (never returned). */
type StoredService = SpecVersioned<Service & { EncodedAuth?: string }>;

/** A swarm-scoped network as the cluster keeps it (overlay networks made while in a swarm, stack networks). */
export interface ClusterNetwork {
  ID: string;
  Version: { Index: number };
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  Created: string;
  Scope?: string;
  Options?: Record<string, string>;
  IPAM?: unknown;
  /** Overlay networks: subnet, VNI, encryption, ingress (cluster/overlay/model.ts); absent on objects made before overlays. */
  Overlay?: OverlayConfig;
  Attachable?: boolean;
  Internal?: boolean;
}

export interface ObjectsApiContext {
  nodeId: string;
  leader(): Promise<string | undefined>;
  /** Node IDs whose heartbeat key is present. */
  alive(): Promise<Set<string>>;
  localTaskLogs?(taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable } | undefined>;
  /** Logs of a task on another node, through its control endpoint. */
  remoteTaskLogs?(node: Node, taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable }>;
  onUnavailable(): void;
  /** Autolock's part of a swarm update (the unlock key made, rotated or dropped: src/cluster/node/state-lock.ts). */
  lockUpdate?(prev: StoredCluster, next: StoredCluster, rotateUnlockKey: boolean): StoredCluster;
  /** Overlay address management (default: in the store, from the swarm's address pool, host routes not consulted). */
  allocator?: OverlayAllocator;
  /** Why encrypted overlays cannot work on this host (xfrm-ip.ts's probe), or undefined when they can. */
  encryptionUnsupported?(): Promise<string | undefined>;
}

const NO_LEADER = "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

export class SwarmObjectsApi {
  private readonly allocator: OverlayAllocator;
  /** Swarm network objects (overlay/networks-api.ts). */
  readonly networks: SwarmNetworksApi;

  constructor(private readonly conn: StoreConnection, private readonly ctx: ObjectsApiContext) {
    this.allocator = ctx.allocator ?? new EtcdOverlayAllocator(conn.store, { addressPool: () => clusterAddressPool(conn.objects) });
    this.networks = new SwarmNetworksApi(conn.objects, this.allocator, ctx.nodeId, ctx.encryptionUnsupported?.bind(ctx));
  }

  private get objects() { return this.conn.objects; }

  /** Store failures (no quorum) become swarmkit's no-leader error, which dockerd answers with 500. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreUnavailable) {
        this.ctx.onUnavailable();
        throw new Error(NO_LEADER);
      }
      throw err;
    }
  }

  private async all<T extends { ID: string; Version: { Index: number } }>(kind: 'nodes' | 'services' | 'tasks' | 'secrets' | 'configs' | 'networks' | 'cluster'): Promise<T[]> {
    return (await this.objects.list<T>(kind)).items;
  }

  // ------------------------------------------------------------------------------------------------ swarm

  inspectSwarm(): Promise<Swarm> {
    return this.guard(async () => {
      const c = (await this.all<StoredCluster>('cluster'))[0]!;
      const { RootCA: _r, ManagerUnlockKey: _u, ...swarm } = c;
      void _r; void _u;
      return { ...swarm, Spec: swarmSpecForRead(swarm.Spec) };
    });
  }

  updateSwarm(spec: SwarmSpec, version: number, rotate: { workerToken: boolean; managerToken: boolean; unlockKey: boolean }): Promise<void> {
    return this.guard(async () => {
      const c = (await this.all<StoredCluster>('cluster'))[0]!;
      const next: StoredCluster = { ...c, Spec: updatedSwarmSpec(spec), UpdatedAt: new Date().toISOString(), JoinTokens: { ...c.JoinTokens } };
      if (rotate.workerToken) next.JoinTokens.Worker = generateJoinToken(c.TLSInfo.TrustRoot);
      if (rotate.managerToken) next.JoinTokens.Manager = generateJoinToken(c.TLSInfo.TrustRoot);
      await this.objects.update('cluster', this.ctx.lockUpdate?.(c, next, rotate.unlockKey) ?? next, version);
    });
  }

  async unlockKey(): Promise<string> {
    return '';
  }

  // ------------------------------------------------------------------------------------------------ nodes

  /** A node as the API shows it: Leader from the election, reachability and down-ness from the heartbeat keys. */
  private async present(nodes: Node[]): Promise<Node[]> {
    const [leader, alive] = await Promise.all([this.ctx.leader().catch(() => undefined), this.ctx.alive()]);
    return nodes.map((n) => {
      const out: Node = structuredClone(n);
      if (!alive.has(n.ID) && out.Status.State === 'ready') out.Status = { ...out.Status, State: 'down', Message: 'heartbeat failure' };
      if (out.ManagerStatus) {
        out.ManagerStatus = { ...out.ManagerStatus, Reachability: alive.has(n.ID) ? 'reachable' : 'unreachable' };
        if (leader === n.ID) out.ManagerStatus.Leader = true;
        else delete out.ManagerStatus.Leader;
      }
      return out;
    });
  }

  listNodes(filters: Filters): Promise<Node[]> {
    return this.guard(async () => {
      const match = nodeMatcher(filters);
      return this.present((await this.all<Node>('nodes')).filter(match));
    });
  }

  private async findNode(idOrName: string): Promise<Node> {
    return lookup('node', idOrName, await this.all<Node>('nodes'), nameOf.node);
  }

  inspectNode(idOrName: string): Promise<Node> {
    return this.guard(async () => (await this.present([await this.findNode(idOrName)]))[0]!);
  }

  updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void> {
    return this.guard(async () => {
      const node = await this.findNode(idOrName);
      const next = normaliseNodeSpec(spec);
      if (node.Spec.Role === 'manager' && next.Role === 'worker') {
        const managers = (await this.all<Node>('nodes')).filter((n) => n.Spec.Role === 'manager');
        if (managers.length === 1) throw failedPrecondition('attempting to demote the last manager of the swarm');
      }
      await this.objects.update<Node>('nodes', { ...node, Spec: next, UpdatedAt: new Date().toISOString() }, version);
    });
  }

  removeNode(idOrName: string, force: boolean): Promise<void> {
    return this.guard(async () => {
      const [node] = await this.present([await this.findNode(idOrName)]);
      if (node!.Spec.Role === 'manager' && node!.ManagerStatus) {
        throw failedPrecondition(`node ${node!.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
      }
      if (!force && node!.Status.State !== 'down') throw failedPrecondition(`node ${node!.ID} is not down and can't be removed`);
      await this.objects.remove('nodes', node!.ID);
    });
  }

  // --------------------------------------------------------------------------------------------- services

  private forRead(s: StoredService): Service {
    const { EncodedAuth: _a, ...service } = withoutSpecBase(s);
    void _a;
    return service;
  }

  private async findService(idOrName: string): Promise<StoredService> {
    return lookup('service', idOrName, await this.all<StoredService>('services'), nameOf.annotated);
  }

  listServices(filters: Filters, withStatus: boolean): Promise<Service[]> {
    return this.guard(async () => {
      const match = serviceMatcher(filters);
      const services = (await this.all<StoredService>('services')).filter(match).map((s) => this.forRead(s));
      if (!withStatus) return services;
      const tasks = await this.all<Task>('tasks');
      const nodes = await this.present(await this.all<Node>('nodes'));
      const up = new Set(nodes.filter((n) => n.Status.State !== 'down').map((n) => n.ID));
      return services.map((s) => ({ ...s, ServiceStatus: serviceStatus(s, tasks.filter((t) => t.ServiceID === s.ID), up) }));
    });
  }

  inspectService(idOrName: string, insertDefaults: boolean): Promise<Service> {
    return this.guard(async () => {
      const s = this.forRead(await this.findService(idOrName));
      return insertDefaults ? serviceWithDefaults(s) : s;
    });
  }

  /** What create and update check beyond the spec itself: ports of other services, networks, references. */
  private async checkAgainstStore(spec: ServiceSpec, selfId?: string): Promise<void> {
    const services = await this.all<StoredService>('services');
    checkPortConflicts(spec, services.filter((s) => s.ID !== selfId));
    const networks = await this.all<ClusterNetwork>('networks');
    await resolveNetworkTargets(spec, async (target) => {
      try {
        const n = lookup('network', target, networks, (x) => x.Name);
        if (n.Overlay?.Ingress) throw invalidArgument(`Service cannot be explicitly attached to the ingress network "${n.Name}"`);
        return n.ID;
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`network ${target} not found`);
        throw err;
      }
    });
    const secrets = await this.all<Secret>('secrets');
    const configs = await this.all<Config>('configs');
    await checkReferencesExist('secret', spec, async (id) => secrets.find((s) => s.ID === id)?.Spec.Name);
    await checkReferencesExist('config', spec, async (id) => configs.find((s) => s.ID === id)?.Spec.Name);
  }

  createService(input: ServiceSpec, encodedAuth?: string): Promise<{ ID: string; Warnings: string[] | null }> {
    return this.guard(async () => {
      const taken = new Set((await this.all<StoredService>('services')).map((s) => (s.Spec.Name ?? '').toLowerCase()));
      const spec = normaliseServiceSpec(input, { nameTaken: (n) => taken.has(n.toLowerCase()) });
      await this.checkAgainstStore(spec);
      const now = new Date().toISOString();
      const id = newObjectId();
      const { endpoint } = await this.endpointFor(id, spec, undefined);
      const service: Omit<StoredService, 'Version'> = {
        ID: id, CreatedAt: now, UpdatedAt: now, Spec: spec,
        Endpoint: endpoint,
        ...(isJob(spec) ? { JobStatus: { JobIteration: { Index: 0 }, LastExecution: now } } : {}),
        ...(encodedAuth ? { EncodedAuth: encodedAuth } : {}),
      };
      try {
        const created = await this.objects.create<StoredService>('services', service, spec.Name);
        return { ID: created.ID, Warnings: null };
      } catch (err) {
        await releaseEndpoint(this.allocator, id, endpoint).catch(() => undefined);
        if (err instanceof NameConflict) throw alreadyExists(`name conflicts with an existing object: service ${spec.Name} already exists`);
        throw err;
      }
    });
  }

  updateService(idOrName: string, version: number, input: ServiceSpec, options: ServiceUpdateOptions): Promise<{ Warnings: string[] | null }> {
    return this.guard(async () => {
      const current = await this.findService(idOrName);
      const now = new Date().toISOString();
      let next: StoredService;
      if (options.rollback) {
        // swarmkit's manual rollback: the previous spec comes back, the current one becomes the previous.
        if (!current.PreviousSpec) throw failedPrecondition(`service ${current.ID} does not have a previous spec`);
        next = withSpecChange(current, {
          ...current, Spec: current.PreviousSpec, PreviousSpec: current.Spec, UpdatedAt: now,
          UpdateStatus: { State: 'rollback_started', StartedAt: now, Message: 'manually requested rollback' },
        });
      } else {
        const spec = normaliseServiceSpec(input, { nameTaken: () => true });
        checkServiceUpdate(current.Spec, spec);
        await this.checkAgainstStore(spec, current.ID);
        next = withSpecChange(current, { ...current, Spec: spec, PreviousSpec: current.Spec, UpdatedAt: now });
        delete next.UpdateStatus;
        if (isJob(spec)) next.JobStatus = { JobIteration: { Index: (current.JobStatus?.JobIteration.Index ?? 0) + 1 }, LastExecution: now };
      }
      const { endpoint, stale } = await this.endpointFor(current.ID, next.Spec, current.Endpoint);
      next.Endpoint = endpoint;
      if (options.registryAuthFrom === 'previous-spec') {
        if (!current.PreviousSpec) throw new Error('service does not have a previous spec');
      } else if (options.encodedAuth) {
        next.EncodedAuth = options.encodedAuth;
      }
      await this.objects.update<StoredService>('services', next, expectedVersionFor(current, version));
      await releaseStale(this.allocator, current.ID, stale);
      return { Warnings: null };
    });
  }

  removeService(idOrName: string): Promise<void> {
    return this.guard(async () => {
      const s = await this.findService(idOrName);
      await this.objects.remove('services', s.ID, undefined, s.Spec.Name);
      await releaseEndpoint(this.allocator, s.ID, s.Endpoint);
    });
  }

  /** The service's Endpoint for `spec` (overlay/service-endpoints.ts): ports and VIPs against the other services and the networks. */
  private async endpointFor(serviceId: string, spec: ServiceSpec, current: Service['Endpoint'] | undefined) {
    const [services, networks] = await Promise.all([this.all<StoredService>('services'), this.all<ClusterNetwork>('networks')]);
    return allocateEndpoint(this.allocator, serviceId, spec, current, networks, services.filter((s) => s.ID !== serviceId));
  }

  // ------------------------------------------------------------------------------------------------ tasks

  listTasks(filters: Filters): Promise<Task[]> {
    return this.guard(async () => {
      const [tasks, services, nodes] = await Promise.all([this.all<Task>('tasks'), this.all<StoredService>('services'), this.all<Node>('nodes')]);
      const byId = new Map(services.map((s) => [s.ID, s]));
      const nodeById = new Map(nodes.map((n) => [n.ID, n]));
      const resolve = <T extends { ID: string }>(kind: 'service' | 'node', values: string[] | undefined, items: T[], name: (i: T) => string | undefined) =>
        values?.length ? new Set(values.flatMap((v) => { try { return [lookup(kind, v, items, name).ID]; } catch { return []; } })) : undefined;
      const match = taskMatcher(filters, {
        serviceOf: (t) => byId.get(t.ServiceID),
        serviceIds: resolve('service', filters.get('service'), services, nameOf.annotated),
        nodeIds: resolve('node', filters.get('node'), nodes, nameOf.node),
        // As the updater sees it: a service's Version also moves when only its UpdateStatus is written, so
        // SpecVersion alone would call every task outdated after an update completes.
        upToDate: (t, svc) => !!svc && !isOutdated(t, svc, nodeById.get(t.NodeID ?? '')),
      });
      return tasks.filter(match);
    });
  }

  inspectTask(id: string): Promise<Task> {
    return this.guard(async () => {
      const [tasks, services] = await Promise.all([this.all<Task>('tasks'), this.all<StoredService>('services')]);
      const names = new Map(services.map((s) => [s.ID, s.Spec.Name]));
      return lookup('task', id, tasks, (t) => `${names.get(t.ServiceID) ?? ''}.${t.Slot || t.NodeID}.${t.ID}`);
    });
  }

  async taskLogs(id: string, options: LogOptions): Promise<ClusterLogStream> {
    const task = await this.inspectTask(id);
    return this.logsOf([task], options);
  }

  async serviceLogs(idOrName: string, options: LogOptions): Promise<ClusterLogStream> {
    const service = await this.guard(() => this.findService(idOrName));
    const tasks = (await this.all<Task>('tasks')).filter((t) => t.ServiceID === service.ID && t.NodeID);
    const tty = !!service.Spec.TaskTemplate.ContainerSpec?.TTY;
    const merged = await this.logsOf(tasks, options);
    return { ...merged, tty };
  }

  /** Each task's log stream from the node that runs it (here or through its control endpoint), merged frame by frame. */
  private async logsOf(tasks: Task[], options: LogOptions): Promise<ClusterLogStream> {
    const nodes = new Map((await this.all<Node>('nodes')).map((n) => [n.ID, n]));
    const out = new PassThrough();
    let tty = false;
    const sources: Readable[] = [];
    for (const t of tasks) {
      if (!t.NodeID) continue;
      try {
        const got = t.NodeID === this.ctx.nodeId
          ? await this.ctx.localTaskLogs?.(t.ID, options)
          : nodes.get(t.NodeID) && this.ctx.remoteTaskLogs ? await this.ctx.remoteTaskLogs(nodes.get(t.NodeID)!, t.ID, options) : undefined;
        if (!got) continue;
        tty ||= got.tty;
        sources.push(got.stream);
      } catch {
        // A node that cannot be reached gives no lines (moby logs the error and goes on with the others).
      }
    }
    mergeFrames(sources, out);
    return { tty, stream: out };
  }

  // -------------------------------------------------------------------------------------- secrets, configs

  private listOf<T extends Secret>(kind: SecretKind, filters: Filters): Promise<T[]> {
    return this.guard(async () => {
      const match = kind === 'secret' ? secretMatcher(filters) : configMatcher(filters);
      return (await this.all<T>(kind === 'secret' ? 'secrets' : 'configs')).filter(match).map((o) => forRead(kind, o));
    });
  }

  private async find<T extends Secret>(kind: SecretKind, idOrName: string): Promise<T> {
    return lookup(kind, idOrName, await this.all<T>(kind === 'secret' ? 'secrets' : 'configs'), nameOf.annotated);
  }

  private createOf(kind: SecretKind, input: SecretSpec): Promise<{ ID: string }> {
    return this.guard(async () => {
      const spec = normaliseSecretSpec(kind, input);
      const now = new Date().toISOString();
      try {
        const created = await this.objects.create<Secret>(kind === 'secret' ? 'secrets' : 'configs', { ID: newObjectId(), CreatedAt: now, UpdatedAt: now, Spec: spec }, spec.Name);
        return { ID: created.ID };
      } catch (err) {
        if (err instanceof NameConflict) throw alreadyExists(`${kind} ${spec.Name} already exists`);
        throw err;
      }
    });
  }

  private updateOf(kind: SecretKind, idOrName: string, version: number, input: SecretSpec): Promise<void> {
    return this.guard(async () => {
      const current = await this.find<Secret>(kind, idOrName);
      const spec = updateSecretSpec(current.Spec, input);
      await this.objects.update<Secret>(kind === 'secret' ? 'secrets' : 'configs', { ...current, Spec: spec, UpdatedAt: new Date().toISOString() }, version);
    });
  }

  private removeOf(kind: SecretKind, idOrName: string): Promise<void> {
    return this.guard(async () => {
      const current = await this.find<Secret>(kind, idOrName);
      const users = (await this.all<StoredService>('services')).filter((s) => {
        const cs = s.Spec.TaskTemplate.ContainerSpec;
        return kind === 'secret' ? cs?.Secrets?.some((r) => r.SecretID === current.ID) : cs?.Configs?.some((r) => r.ConfigID === current.ID);
      }).map((s) => s.Spec.Name ?? s.ID);
      if (users.length) {
        throw invalidArgument(`${kind} '${current.Spec.Name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${users.join(', ')}`);
      }
      await this.objects.remove(kind === 'secret' ? 'secrets' : 'configs', current.ID, undefined, current.Spec.Name);
    });
  }

  listSecrets(filters: Filters): Promise<Secret[]> { return this.listOf('secret', filters); }
  createSecret(spec: SecretSpec): Promise<{ ID: string }> { return this.createOf('secret', spec); }
  inspectSecret(idOrName: string): Promise<Secret> { return this.guard(async () => forRead('secret', await this.find<Secret>('secret', idOrName))); }
  updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void> { return this.updateOf('secret', idOrName, version, spec); }
  removeSecret(idOrName: string): Promise<void> { return this.removeOf('secret', idOrName); }

  listConfigs(filters: Filters): Promise<Config[]> { return this.listOf<Config>('config', filters); }
  createConfig(spec: ConfigSpec): Promise<{ ID: string }> { return this.createOf('config', spec); }
  inspectConfig(idOrName: string): Promise<Config> { return this.guard(async () => this.find<Config>('config', idOrName)); }
  updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void> { return this.updateOf('config', idOrName, version, spec); }
  removeConfig(idOrName: string): Promise<void> { return this.removeOf('config', idOrName); }

  // ---------------------------------------------------------------------------------------------- networks

  listNetworks(): Promise<ClusterNetwork[]> {
    return this.guard(() => this.networks.list());
  }
}

/** ServiceStatus as dockerd computes it for `GET /services?status=true`. */
export function serviceStatus(service: Service, tasks: Task[], upNodes: Set<string>): { RunningTasks: number; DesiredTasks: number; CompletedTasks: number } {
  const mode = modeOf(service.Spec);
  const running = tasks.filter((t) => t.Status.State === 'running' && (!t.NodeID || upNodes.has(t.NodeID))).length;
  const iteration = service.JobStatus?.JobIteration.Index;
  const current = tasks.filter((t) => iteration === undefined || (t.JobIteration?.Index ?? 0) === iteration);
  const completed = current.filter((t) => t.Status.State === 'complete').length;
  let desired: number;
  if (mode === 'replicated') desired = service.Spec.Mode?.Replicated?.Replicas ?? 1;
  else if (mode === 'replicated-job') desired = service.Spec.Mode?.ReplicatedJob?.MaxConcurrent ?? 1;
  else desired = current.filter((t) => t.DesiredState === 'running' || (t.DesiredState === 'complete' && t.Status.State !== 'complete')).length;
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed };
}

/**
 * Copies several multiplexed (or raw) log streams into one without splitting a frame: each source's bytes are cut
 * at frame boundaries (8-byte header + length) before they are written, so lines of two tasks never interleave
 * inside a frame. Raw (TTY) sources are copied chunk by chunk.
 */
function mergeFrames(sources: Readable[], out: PassThrough): void {
  let open = sources.length;
  if (!open) { out.end(); return; }
  for (const src of sources) {
    let pending: Buffer = Buffer.alloc(0);
    src.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let cut = 0;
      while (pending.length - cut >= 8 && pending[cut]! <= 2 && pending[cut + 1] === 0) {
        const len = pending.readUInt32BE(cut + 4);
        if (pending.length - cut < 8 + len) break;
        cut += 8 + len;
      }
      if (cut === 0 && pending.length >= 8 && (pending[0]! > 2 || pending[1] !== 0)) cut = pending.length; // not framed: raw
      if (cut) {
        out.write(pending.subarray(0, cut));
        pending = pending.subarray(cut);
      }
    });
    const done = () => {
      if (pending.length) out.write(pending);
      pending = Buffer.alloc(0);
      if (--open === 0) out.end();
    };
    src.once('end', done);
    src.once('error', done);
    out.once('close', () => src.destroy());
  }
}
