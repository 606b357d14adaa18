// An in-memory ClusterBackend for route tests: one manager node, objects in maps, specs checked through
// src/cluster/spec as the real backend does; `state` switches the node out of the swarm. Records what it was given.
import { Readable } from 'node:stream';
import { UnavailableError } from '../../src/errdefs';
import type { ClusterBackend, LogOptions, ServiceUpdateOptions } from '../../src/cluster/backend';
import { NameConflict, UpdateOutOfSequence } from '../../src/cluster/store/objects';
import { checkServiceUpdate, normaliseServiceSpec } from '../../src/cluster/spec/service-spec';
import { normaliseSecretSpec, updateSecretSpec } from '../../src/cluster/spec/secret-spec';
import { normaliseNodeSpec } from '../../src/cluster/spec/node-spec';
import { initSwarmSpec, updatedSwarmSpec } from '../../src/cluster/spec/swarm-spec';
import { lookup } from '../../src/cluster/spec/lookup';
import { newObjectId } from '../../src/cluster/spec/ids';
import { configMatcher, nodeMatcher, secretMatcher, serviceMatcher, taskMatcher } from '../../src/cluster/spec/filters';
import { serviceWithDefaults } from '../../src/cluster/spec/insert-defaults';
import type { Filters } from '../../src/wire/filters';
import type { Config, InitRequest, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Swarm, SwarmInfo, SwarmSpec, Task } from '../../src/wire/swarm';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export class FakeClusterBackend implements ClusterBackend {
  state: 'inactive' | 'manager' = 'inactive';
  index = 1;
  swarm?: Swarm;
  nodes = new Map<string, Node>();
  services = new Map<string, Service & { auth?: string }>();
  tasks = new Map<string, Task>();
  secrets = new Map<string, Secret>();
  configs = new Map<string, Config>();
  calls: { method: string; args: unknown[] }[] = [];
  logs = Buffer.from('');

  private now(): string { return new Date().toISOString(); }
  private manager(): void { if (this.state !== 'manager') throw new UnavailableError(NOT_MANAGER); }
  private record(method: string, ...args: unknown[]): void { this.calls.push({ method, args }); }
  private meta() { return { ID: newObjectId(), Version: { Index: ++this.index }, CreatedAt: this.now(), UpdatedAt: this.now() }; }

  async info(): Promise<SwarmInfo> {
    if (this.state === 'inactive') return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
    const node = [...this.nodes.values()][0]!;
    return { NodeID: node.ID, NodeAddr: '10.0.0.1', LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: [{ NodeID: node.ID, Addr: '10.0.0.1:2377' }], Nodes: 1, Managers: 1 };
  }
  pingHeader(): string { return this.state === 'manager' ? 'active/manager' : 'inactive'; }

  async init(request: InitRequest): Promise<string> {
    this.record('init', request);
    if (this.state === 'manager') throw new UnavailableError('This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.');
    const spec = initSwarmSpec(request.Spec, request.AutoLockManagers);
    this.swarm = { ...this.meta(), Spec: spec, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' }, RootRotationInProgress: false,
      DefaultAddrPool: ['10.0.0.0/8'], SubnetSize: 24, DataPathPort: 4789, JoinTokens: { Worker: 'SWMTKN-1-w', Manager: 'SWMTKN-1-m' } };
    const node: Node = { ...this.meta(), Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
      Description: { Hostname: 'node1', Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 2e9, MemoryBytes: 2 ** 31 },
        Engine: { EngineVersion: '28.5.2', Plugins: [] }, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } },
      Status: { State: 'ready', Addr: '10.0.0.1' }, ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' } };
    this.nodes.set(node.ID, node);
    this.state = 'manager';
    return node.ID;
  }
  async join(): Promise<void> { throw new UnavailableError('join is not faked'); }
  async leave(force: boolean): Promise<void> {
    this.record('leave', force);
    if (this.state === 'inactive') throw new UnavailableError('This node is not part of a swarm');
    this.state = 'inactive';
  }
  async inspectSwarm(): Promise<Swarm> { this.manager(); return this.swarm!; }
  async updateSwarm(spec: SwarmSpec, version: number, rotate: { workerToken: boolean; managerToken: boolean; unlockKey: boolean }): Promise<void> {
    this.record('updateSwarm', spec, version, rotate);
    this.manager();
    if (version !== this.swarm!.Version.Index) throw new UpdateOutOfSequence();
    this.swarm = { ...this.swarm!, Spec: updatedSwarmSpec(spec), Version: { Index: ++this.index } };
  }
  async unlockKey(): Promise<string> { this.manager(); return ''; }
  async unlock(): Promise<void> { throw new UnavailableError('swarm is not locked'); }

  async listNodes(filters: Filters): Promise<Node[]> { this.manager(); return [...this.nodes.values()].filter(nodeMatcher(filters)); }
  async inspectNode(id: string): Promise<Node> { this.manager(); return lookup('node', id, [...this.nodes.values()], (n) => n.Description.Hostname); }
  async updateNode(id: string, version: number, spec: NodeSpec): Promise<void> {
    this.manager();
    const node = await this.inspectNode(id);
    const checked = normaliseNodeSpec(spec);
    if (version !== node.Version.Index) throw new UpdateOutOfSequence();
    this.nodes.set(node.ID, { ...node, Spec: checked, Version: { Index: ++this.index } });
  }
  async removeNode(id: string, force: boolean): Promise<void> { this.record('removeNode', id, force); await this.inspectNode(id); }

  async listServices(filters: Filters, withStatus: boolean): Promise<Service[]> {
    this.manager();
    return [...this.services.values()].filter(serviceMatcher(filters)).map(({ auth: _a, ...s }) => withStatus ? { ...s, ServiceStatus: { RunningTasks: 0, DesiredTasks: 1, CompletedTasks: 0 } } : s);
  }
  async createService(spec: ServiceSpec, encodedAuth?: string): Promise<{ ID: string; Warnings: string[] | null }> {
    this.record('createService', spec, encodedAuth);
    this.manager();
    const checked = normaliseServiceSpec(spec, { nameTaken: (n) => [...this.services.values()].some((s) => s.Spec.Name === n) });
    if ([...this.services.values()].some((s) => s.Spec.Name?.toLowerCase() === checked.Name!.toLowerCase())) throw new NameConflict('services', checked.Name!);
    const service: Service & { auth?: string } = { ...this.meta(), Spec: checked, Endpoint: { Spec: checked.EndpointSpec ?? {} }, auth: encodedAuth };
    this.services.set(service.ID, service);
    return { ID: service.ID, Warnings: null };
  }
  private service(id: string): Service & { auth?: string } { return lookup('service', id, [...this.services.values()], (s) => s.Spec.Name); }
  async inspectService(id: string, insertDefaults: boolean): Promise<Service> {
    this.manager();
    const { auth: _a, ...s } = this.service(id);
    return insertDefaults ? serviceWithDefaults(s) : s;
  }
  async updateService(id: string, version: number, spec: ServiceSpec, options: ServiceUpdateOptions): Promise<{ Warnings: string[] | null }> {
    this.record('updateService', id, version, spec, options);
    this.manager();
    const current = this.service(id);
    const checked = normaliseServiceSpec(spec);
    checkServiceUpdate(current.Spec, checked);
    if (version !== current.Version.Index) throw new UpdateOutOfSequence();
    this.services.set(current.ID, { ...current, Spec: checked, PreviousSpec: current.Spec, Version: { Index: ++this.index } });
    return { Warnings: null };
  }
  async removeService(id: string): Promise<void> { this.manager(); this.services.delete(this.service(id).ID); }
  async serviceLogs(id: string, options: LogOptions) { this.record('serviceLogs', id, options); this.manager(); this.service(id); return { tty: false, stream: Readable.from([this.logs]) }; }

  async listTasks(filters: Filters): Promise<Task[]> {
    this.manager();
    return [...this.tasks.values()].filter(taskMatcher(filters, { serviceOf: (t) => this.services.get(t.ServiceID) }));
  }
  async inspectTask(id: string): Promise<Task> { this.manager(); return lookup('task', id, [...this.tasks.values()], () => undefined); }
  async taskLogs(id: string, options: LogOptions) { this.record('taskLogs', id, options); await this.inspectTask(id); return { tty: true, stream: Readable.from([this.logs]) }; }

  private secretLike<T extends Secret>(kind: 'secret' | 'config', map: Map<string, T>) {
    return {
      list: (filters: Filters) => { this.manager(); return [...map.values()].filter((kind === 'secret' ? secretMatcher : configMatcher)(filters)); },
      create: (spec: SecretSpec) => {
        this.manager();
        const checked = normaliseSecretSpec(kind, spec);
        if ([...map.values()].some((s) => s.Spec.Name === checked.Name)) throw new NameConflict(kind === 'secret' ? 'secrets' : 'configs', checked.Name!);
        const o = { ...this.meta(), Spec: checked } as T;
        map.set(o.ID, o);
        return { ID: o.ID };
      },
      inspect: (id: string) => { this.manager(); return lookup(kind, id, [...map.values()], (s) => s.Spec.Name); },
      update: (id: string, version: number, spec: SecretSpec) => {
        this.manager();
        const o = lookup(kind, id, [...map.values()], (s) => s.Spec.Name);
        const next = updateSecretSpec(o.Spec, spec);
        if (version !== o.Version.Index) throw new UpdateOutOfSequence();
        map.set(o.ID, { ...o, Spec: next, Version: { Index: ++this.index } });
      },
      remove: (id: string) => { this.manager(); map.delete(lookup(kind, id, [...map.values()], (s) => s.Spec.Name).ID); },
    };
  }
  async listSecrets(f: Filters) { return this.secretLike('secret', this.secrets).list(f); }
  async createSecret(s: SecretSpec) { return this.secretLike('secret', this.secrets).create(s); }
  async inspectSecret(id: string) { return this.secretLike('secret', this.secrets).inspect(id); }
  async updateSecret(id: string, v: number, s: SecretSpec) { this.secretLike('secret', this.secrets).update(id, v, s); }
  async removeSecret(id: string) { this.secretLike('secret', this.secrets).remove(id); }
  async listConfigs(f: Filters) { return this.secretLike('config', this.configs).list(f); }
  async createConfig(s: SecretSpec) { return this.secretLike('config', this.configs).create(s); }
  async inspectConfig(id: string) { return this.secretLike('config', this.configs).inspect(id); }
  async updateConfig(id: string, v: number, s: SecretSpec) { this.secretLike('config', this.configs).update(id, v, s); }
  async removeConfig(id: string) { this.secretLike('config', this.configs).remove(id); }
}
