// One consistent read of what the manager loops decide on: nodes, services, tasks and the cluster settings,
// with the task-state order swarmkit's decisions rest on (observed states only move forward; past running
// is terminal) and the service-mode questions every loop asks.
import { TASK_STATES } from '../../wire/swarm';
import type { ClusterInfo, Node, Service, ServiceSpec, Task, TaskSpec, TaskState } from '../../wire/swarm';
import type { ClusterObjects } from '../store/objects';

const RANK = new Map<TaskState, number>(TASK_STATES.map((s, i) => [s, i]));

/** Where a state sits in swarmkit's order (new < pending < ... < running < complete < ... < orphaned). */
export function rank(state: TaskState): number {
  return RANK.get(state) ?? 0;
}

export const isTerminal = (state: TaskState): boolean => rank(state) > rank('running');
/** Desired to run (including a replacement held at `ready` until released). */
export const isRunnable = (t: Task): boolean => rank(t.DesiredState) <= rank('running');

export type ModeKind = 'replicated' | 'global' | 'replicated-job' | 'global-job';

export function modeOf(spec: ServiceSpec): ModeKind {
  const m = spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.ReplicatedJob) return 'replicated-job';
  if (m.GlobalJob) return 'global-job';
  return 'replicated';
}

export const isJob = (spec: ServiceSpec): boolean => modeOf(spec).endsWith('job');
export const isGlobalMode = (spec: ServiceSpec): boolean => modeOf(spec).startsWith('global');

/** Desired to run or complete, as a job's tasks are (jobs are desired `complete`). */
export function isActiveDesire(t: Task): boolean {
  return rank(t.DesiredState) <= rank('complete');
}

/** The group of tasks one instance of a service is made of: its slot, or its node for global modes. */
export function instanceKey(service: ServiceSpec | undefined, t: Pick<Task, 'NodeID' | 'Slot'>): string {
  return service && isGlobalMode(service) ? `node:${t.NodeID ?? ''}` : `slot:${t.Slot ?? 0}`;
}

/** The task spec a service's tasks are made from (task specs omit Runtime, as swarmkit's). */
export function taskSpecOf(spec: ServiceSpec): TaskSpec {
  const copy = structuredClone(spec.TaskTemplate);
  delete copy.Runtime;
  return copy;
}

/** JSON with sorted keys, so two specs compare equal however their keys were ordered. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export class ClusterView {
  readonly nodes = new Map<string, Node>();
  readonly services = new Map<string, Service>();
  readonly tasks = new Map<string, Task>();
  readonly byService = new Map<string, Task[]>();
  cluster: ClusterInfo | undefined;

  constructor(nodes: Node[], services: Service[], tasks: Task[], cluster?: ClusterInfo) {
    for (const n of nodes) this.nodes.set(n.ID, n);
    for (const s of services) this.services.set(s.ID, s);
    for (const t of tasks) {
      this.tasks.set(t.ID, t);
      const list = this.byService.get(t.ServiceID);
      if (list) list.push(t);
      else this.byService.set(t.ServiceID, [t]);
    }
    this.cluster = cluster;
  }

  static async load(objects: ClusterObjects): Promise<ClusterView> {
    const [nodes, services, tasks, clusters] = await Promise.all([
      objects.list<Node>('nodes'), objects.list<Service>('services'), objects.list<Task>('tasks'), objects.list<ClusterInfo>('cluster'),
    ]);
    return new ClusterView(nodes.items, services.items, tasks.items, clusters.items[0]);
  }

  tasksOf(serviceID: string): Task[] {
    return this.byService.get(serviceID) ?? [];
  }

  /** Swarmkit's TaskHistoryRetentionLimit (default 5; negative keeps everything). */
  historyLimit(): number {
    return this.cluster?.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5;
  }
}

/** Tasks of the service grouped by instance (slot, or node for global modes). */
export function instances(service: Service, tasks: Task[]): Map<string, Task[]> {
  const out = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = instanceKey(service.Spec, t);
    const list = out.get(key);
    if (list) list.push(t);
    else out.set(key, [t]);
  }
  return out;
}
