// A small cluster for the manager's unit tests: the in-memory store, a fake clock, nodes with heartbeat keys,
// services, and a scripted agent that moves tasks along as a node's worker would.
import type { Clock, Timer } from '../../src/cluster/manager/clock';
import { heartbeatKey } from '../../src/cluster/manager/heartbeat-keys';
import { ClusterManager } from '../../src/cluster/manager/manager';
import { newObjectID } from '../../src/cluster/manager/task-factory';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import type { Node, Service, ServiceSpec, Task, TaskState } from '../../src/wire/swarm';
import { FakeClusterStore } from '../fakes/cluster-store';

export class FakeClock implements Clock {
  private timers: { at: number; fire: () => void; cancelled: boolean }[] = [];
  constructor(public t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number { return this.t; }
  setTimer(ms: number, fire: () => void): Timer {
    const timer = { at: this.t + ms, fire, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t && !x.cancelled);
    this.timers = this.timers.filter((x) => !due.includes(x));
    for (const x of due) x.fire();
  }
}

export interface NodeOptions { role?: 'manager' | 'worker'; labels?: Record<string, string>; availability?: Node['Spec']['Availability']; cpus?: number; memory?: number }

export class World {
  readonly store = new FakeClusterStore();
  readonly objects = new ObjectsStore(this.store);
  readonly clock = new FakeClock();
  readonly manager = new ClusterManager(this.objects, { clock: this.clock, heartbeatGraceMs: 1_000 });

  async addNode(hostname: string, o: NodeOptions = {}): Promise<Node> {
    const at = new Date(this.clock.now()).toISOString();
    const node = await this.objects.create<Node>('nodes', {
      ID: newObjectID(), CreatedAt: at, UpdatedAt: at,
      Spec: { Labels: o.labels ?? {}, Role: o.role ?? 'worker', Availability: o.availability ?? 'active' },
      Description: {
        Hostname: hostname, Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: (o.cpus ?? 2) * 1e9, MemoryBytes: o.memory ?? 4 * 2 ** 30 },
        Engine: { EngineVersion: '28.5.2', Plugins: [{ Type: 'Network', Name: 'overlay' }, { Type: 'Volume', Name: 'local' }] },
        TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
      },
      Status: { State: 'ready', Addr: '10.0.0.1' },
    });
    await this.store.txn([{ op: 'put', key: heartbeatKey(node.ID), value: '1' }]);
    return node;
  }

  async stopHeartbeat(nodeID: string): Promise<void> {
    await this.store.txn([{ op: 'delete', key: heartbeatKey(nodeID) }]);
  }

  async startHeartbeat(nodeID: string): Promise<void> {
    await this.store.txn([{ op: 'put', key: heartbeatKey(nodeID), value: '1' }]);
  }

  async setNode(nodeID: string, change: (n: Node) => void): Promise<void> {
    await this.objects.modify<Node>('nodes', nodeID, (n) => { change(n); return n; });
  }

  async createService(spec: Partial<ServiceSpec> & { Name: string }): Promise<Service> {
    const at = new Date(this.clock.now()).toISOString();
    const full: ServiceSpec = { Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Replicated: { Replicas: 1 } }, ...spec };
    const jobs = full.Mode?.ReplicatedJob || full.Mode?.GlobalJob;
    return this.objects.create<Service>('services', {
      ID: newObjectID(), CreatedAt: at, UpdatedAt: at, Spec: full, Endpoint: { Spec: {} },
      ...(jobs ? { JobStatus: { JobIteration: { Index: 0 } } } : {}),
    }, full.Name);
  }

  /** As the API's update: PreviousSpec ← Spec, Spec ← the change, UpdateStatus reset. */
  async updateService(id: string, change: (spec: ServiceSpec) => void): Promise<void> {
    await this.objects.modify<Service>('services', id, (s) => {
      const next = structuredClone(s.Spec);
      change(next);
      const { UpdateStatus: _reset, ...rest } = s;
      return { ...rest, PreviousSpec: s.Spec, Spec: next };
    });
  }

  /** As the API's manual rollback: the specs swap and UpdateStatus says so. */
  async rollbackService(id: string): Promise<void> {
    await this.objects.modify<Service>('services', id, (s) => ({
      ...s, Spec: s.PreviousSpec!, PreviousSpec: s.Spec,
      UpdateStatus: { State: 'rollback_started', Message: 'manually requested rollback', StartedAt: new Date(this.clock.now()).toISOString() },
    }));
  }

  async service(id: string): Promise<Service> {
    return (await this.objects.get<Service>('services', id))!;
  }

  async tasks(serviceID?: string): Promise<Task[]> {
    const { items } = await this.objects.list<Task>('tasks');
    return items.filter((t) => !serviceID || t.ServiceID === serviceID);
  }

  /** Tasks that want to run, by slot (or node). */
  async live(serviceID: string): Promise<Task[]> {
    return (await this.tasks(serviceID)).filter((t) => t.DesiredState === 'running' || t.DesiredState === 'ready' || t.DesiredState === 'complete');
  }

  async setState(taskID: string, state: TaskState, err?: string): Promise<void> {
    await this.objects.modify<Task>('tasks', taskID, (t) => ({
      ...t, Status: { ...t.Status, State: state, Timestamp: new Date(this.clock.now()).toISOString(), Message: state, ...(err ? { Err: err } : {}) },
    }));
  }

  /** The agents of every up node: start assigned tasks desired running, stop those desired shut down. */
  async agents(down: Set<string> = new Set()): Promise<void> {
    for (const t of await this.tasks()) {
      if (!t.NodeID || down.has(t.NodeID)) continue;
      const stateRank = ['assigned', 'accepted', 'preparing', 'ready', 'starting'];
      if ((t.DesiredState === 'running' || t.DesiredState === 'complete') && stateRank.includes(t.Status.State)) await this.setState(t.ID, 'running');
      else if (['shutdown', 'remove'].includes(t.DesiredState) && (stateRank.includes(t.Status.State) || t.Status.State === 'running')) await this.setState(t.ID, 'shutdown');
    }
  }

  /** Manager passes and agent steps until both are quiet. */
  async converge(down?: Set<string>): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await this.manager.settle();
      const before = this.store.revision;
      await this.agents(down);
      if (this.store.revision === before) return;
    }
  }
}
