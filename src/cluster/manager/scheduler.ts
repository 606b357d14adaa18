// The scheduler: places tasks waiting in new/pending on nodes, as swarmkit's. Each node is tried through
// the filter pipeline in a fixed order (ready, resources, plugin, constraints, platform, host-mode ports,
// max replicas) and counted against the first filter it fails; of the nodes that pass, placement
// preferences pick a branch and then the node with the fewest tasks of the service, then the fewest tasks.
// A task no node fits stays pending with Err "no suitable node (...)" saying why. The core is a pure
// function over nodes and tasks; runScheduler writes its decisions.
import type { GenericResource, Node, Service, Task } from '../../wire/swarm';
import { constraintsMatch, parseConstraints, platformMatches } from './constraints';
import { timestamp } from './clock';
import type { ManagerWrites } from './writes';
import { ClusterView, isActiveDesire, isTerminal, rank } from './view';

export type Decision =
  | { taskID: string; nodeID: string; message: string }
  | { taskID: string; err: string };

interface NodeInfo {
  node: Node;
  cpu: number;
  memory: number;
  generic: Map<string, number>;
  byService: Map<string, number>;
  total: number;
  hostPorts: Set<string>;
  recentFailures: Map<string, number>;
}

interface Filter {
  enabled(task: Task, service: Service | undefined): boolean;
  passes(info: NodeInfo, task: Task, service: Service | undefined): boolean;
  explain(nodes: number): string;
}

const onNodes = (n: number) => (n === 1 ? 'on 1 node' : `on ${n} nodes`);

/** Generic resources as counts per kind (a named resource counts one). */
function genericCounts(list: GenericResource[] | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const g of list ?? []) {
    if (g.DiscreteResourceSpec) counts.set(g.DiscreteResourceSpec.Kind, (counts.get(g.DiscreteResourceSpec.Kind) ?? 0) + g.DiscreteResourceSpec.Value);
    if (g.NamedResourceSpec) counts.set(g.NamedResourceSpec.Kind, (counts.get(g.NamedResourceSpec.Kind) ?? 0) + 1);
  }
  return counts;
}

function reservations(task: Task) {
  const r = task.Spec.Resources?.Reservations ?? {};
  return { cpu: r.NanoCPUs ?? 0, memory: r.MemoryBytes ?? 0, generic: genericCounts(r.GenericResources) };
}

function hostPorts(service: Service | undefined): string[] {
  return (service?.Spec.EndpointSpec?.Ports ?? [])
    .filter((p) => p.PublishMode === 'host' && (p.PublishedPort ?? 0) !== 0)
    .map((p) => `${p.Protocol ?? 'tcp'}/${p.PublishedPort}`);
}

function volumeDrivers(task: Task): string[] {
  return (task.Spec.ContainerSpec?.Mounts ?? [])
    .map((m) => m.VolumeOptions?.DriverConfig?.Name ?? '')
    .filter((d) => d !== '' && d !== 'local');
}

/** In swarmkit's order; a node counts against the first enabled filter it fails. */
const FILTERS: Filter[] = [
  {
    enabled: () => true,
    passes: (i) => i.node.Status.State === 'ready' && i.node.Spec.Availability === 'active',
    explain: (n) => (n === 1 ? '1 node not available for new tasks' : `${n} nodes not available for new tasks`),
  },
  {
    enabled: (t) => { const r = reservations(t); return r.cpu > 0 || r.memory > 0 || r.generic.size > 0; },
    passes: (i, t) => {
      const r = reservations(t);
      if (r.cpu > i.cpu || r.memory > i.memory) return false;
      for (const [kind, n] of r.generic) if ((i.generic.get(kind) ?? 0) < n) return false;
      return true;
    },
    explain: (n) => `insufficient resources ${onNodes(n)}`,
  },
  {
    enabled: (t) => volumeDrivers(t).length > 0 || !!t.Spec.LogDriver?.Name,
    passes: (i, t) => {
      const plugins = i.node.Description.Engine.Plugins ?? [];
      const has = (type: string, name: string) => plugins.some((p) => p.Type === type && p.Name === name);
      if (!volumeDrivers(t).every((d) => has('Volume', d))) return false;
      const log = t.Spec.LogDriver?.Name;
      // A node that lists no log plugins is taken to have them all.
      return !log || !plugins.some((p) => p.Type === 'Log') || has('Log', log);
    },
    explain: (n) => `missing plugin ${onNodes(n)}`,
  },
  {
    enabled: (t) => (t.Spec.Placement?.Constraints?.length ?? 0) > 0,
    passes: (i, t) => {
      try {
        return constraintsMatch(i.node, parseConstraints(t.Spec.Placement?.Constraints ?? []));
      } catch {
        return false;
      }
    },
    explain: (n) => `scheduling constraints not satisfied ${onNodes(n)}`,
  },
  {
    enabled: (t) => (t.Spec.Placement?.Platforms?.length ?? 0) > 0,
    passes: (i, t) => platformMatches(i.node, t.Spec.Placement?.Platforms ?? []),
    explain: (n) => `unsupported platform ${onNodes(n)}`,
  },
  {
    enabled: (_t, s) => hostPorts(s).length > 0,
    passes: (i, _t, s) => hostPorts(s).every((p) => !i.hostPorts.has(p)),
    explain: (n) => `host-mode port already in use ${onNodes(n)}`,
  },
  {
    enabled: (t) => (t.Spec.Placement?.MaxReplicas ?? 0) > 0,
    passes: (i, t) => (i.byService.get(t.ServiceID) ?? 0) < (t.Spec.Placement?.MaxReplicas ?? 0),
    explain: () => 'max replicas per node limit exceed',
  },
];

/** Tasks that hold a place on their node: desired to run or complete and not yet stopped. */
function holdsPlace(t: Task): boolean {
  return !!t.NodeID && isActiveDesire(t) && !isTerminal(t.Status.State) && rank(t.Status.State) >= rank('assigned');
}

const FAILURE_WINDOW_MS = 5 * 60_000;
const FAILURE_LIMIT = 5;

function nodeInfos(nodes: Node[], tasks: Task[], services: Map<string, Service>, now: number): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const node of nodes) {
    infos.set(node.ID, {
      node, cpu: node.Description.Resources.NanoCPUs, memory: node.Description.Resources.MemoryBytes,
      generic: genericCounts(node.Description.Resources.GenericResources),
      byService: new Map(), total: 0, hostPorts: new Set(), recentFailures: new Map(),
    });
  }
  for (const t of tasks) {
    const info = t.NodeID ? infos.get(t.NodeID) : undefined;
    if (!info) continue;
    if (holdsPlace(t)) take(info, t, services.get(t.ServiceID));
    else if ((t.Status.State === 'failed' || t.Status.State === 'rejected') && now - Date.parse(t.Status.Timestamp) < FAILURE_WINDOW_MS) {
      info.recentFailures.set(t.ServiceID, (info.recentFailures.get(t.ServiceID) ?? 0) + 1);
    }
  }
  return infos;
}

function take(info: NodeInfo, t: Task, service: Service | undefined): void {
  const r = reservations(t);
  info.cpu -= r.cpu;
  info.memory -= r.memory;
  for (const [kind, n] of r.generic) info.generic.set(kind, (info.generic.get(kind) ?? 0) - n);
  info.byService.set(t.ServiceID, (info.byService.get(t.ServiceID) ?? 0) + 1);
  info.total++;
  for (const p of hostPorts(service)) info.hostPorts.add(p);
}

/** Spread order: nodes failing this service often last, then fewest tasks of the service, then fewest tasks. */
function better(a: NodeInfo, b: NodeInfo, serviceID: string): number {
  const fa = (a.recentFailures.get(serviceID) ?? 0) >= FAILURE_LIMIT ? 1 : 0;
  const fb = (b.recentFailures.get(serviceID) ?? 0) >= FAILURE_LIMIT ? 1 : 0;
  return fa - fb
    || (a.byService.get(serviceID) ?? 0) - (b.byService.get(serviceID) ?? 0)
    || a.total - b.total
    || a.node.Description.Hostname.localeCompare(b.node.Description.Hostname)
    || a.node.ID.localeCompare(b.node.ID);
}

function labelValue(node: Node, descriptor: string): string | undefined {
  const lower = descriptor.toLowerCase();
  if (lower.startsWith('node.labels.')) return node.Spec.Labels[descriptor.slice('node.labels.'.length)] ?? '';
  if (lower.startsWith('engine.labels.')) return node.Description.Engine.Labels?.[descriptor.slice('engine.labels.'.length)] ?? '';
  return undefined;
}

/**
 * Placement preferences: each spread descriptor splits the nodes into branches by label value (nodes without
 * the label in the "" branch); the branch with the fewest tasks of the service that still has a fitting node wins.
 */
function pick(all: NodeInfo[], fitting: NodeInfo[], descriptors: string[], serviceID: string): NodeInfo | undefined {
  if (fitting.length === 0) return undefined;
  const [first, ...rest] = descriptors;
  if (first === undefined) return [...fitting].sort((a, b) => better(a, b, serviceID))[0];
  const branches = new Map<string, { all: NodeInfo[]; fitting: NodeInfo[]; tasks: number }>();
  for (const info of all) {
    const key = labelValue(info.node, first) ?? '';
    const b = branches.get(key) ?? { all: [], fitting: [], tasks: 0 };
    b.all.push(info);
    b.tasks += info.byService.get(serviceID) ?? 0;
    if (fitting.includes(info)) b.fitting.push(info);
    branches.set(key, b);
  }
  const best = [...branches.entries()].filter(([, b]) => b.fitting.length > 0)
    .sort(([ka, a], [kb, b]) => a.tasks - b.tasks || ka.localeCompare(kb))[0];
  return best ? pick(best[1].all, best[1].fitting, rest, serviceID) : undefined;
}

export function explain(failures: number[]): string {
  const parts = failures.map((n, i) => ({ n, i })).filter((f) => f.n > 0).sort((a, b) => b.n - a.n || a.i - b.i);
  if (parts.length === 0) return 'no suitable node';
  return `no suitable node (${parts.map((p) => FILTERS[p.i]!.explain(p.n)).join('; ')})`;
}

/** Whether the scheduler should look at a task: waiting for a node and still wanted. */
export function awaitsScheduling(t: Task): boolean {
  return (t.Status.State === 'new' || t.Status.State === 'pending') && isActiveDesire(t);
}

/**
 * Decides a node for each task in `waiting` (in order), counting earlier decisions, over all `tasks` already
 * placed. A preassigned task (global modes) is checked against its own node only.
 */
export function scheduleTasks(nodes: Node[], tasks: Task[], services: Map<string, Service>, waiting: Task[], now: number): Decision[] {
  const infos = nodeInfos(nodes, tasks, services, now);
  const all = [...infos.values()];
  const decisions: Decision[] = [];
  for (const task of waiting) {
    const service = services.get(task.ServiceID);
    const candidates = task.NodeID ? [infos.get(task.NodeID)].filter((i): i is NodeInfo => !!i) : all;
    const enabled = FILTERS.map((f) => f.enabled(task, service));
    const failures = FILTERS.map(() => 0);
    const fitting: NodeInfo[] = [];
    for (const info of candidates) {
      const failed = FILTERS.findIndex((f, i) => enabled[i] && !f.passes(info, task, service));
      if (failed < 0) fitting.push(info);
      else failures[failed]!++;
    }
    const descriptors = (task.Spec.Placement?.Preferences ?? []).map((p) => p.Spread?.SpreadDescriptor ?? '')
      .filter((d) => /^(node|engine)\.labels\./i.test(d));
    const chosen = task.NodeID ? fitting[0] : pick(all, fitting, descriptors, task.ServiceID);
    if (!chosen) {
      decisions.push({ taskID: task.ID, err: explain(failures) });
      continue;
    }
    take(chosen, task, service);
    decisions.push({
      taskID: task.ID, nodeID: chosen.node.ID,
      message: task.NodeID ? 'scheduler confirmed task can run on preassigned node' : 'scheduler assigned task to node',
    });
  }
  return decisions;
}

/** One scheduling round over the view: writes assignments, and the reasons of tasks that cannot be placed. */
export async function runScheduler(view: ClusterView, writes: ManagerWrites, now: number): Promise<Map<string, string>> {
  const waiting = [...view.tasks.values()].filter(awaitsScheduling)
    .sort((a, b) => a.CreatedAt.localeCompare(b.CreatedAt) || (a.Slot ?? 0) - (b.Slot ?? 0) || a.ID.localeCompare(b.ID));
  const unplaced = new Map<string, string>();
  if (waiting.length === 0) return unplaced;
  const decisions = scheduleTasks([...view.nodes.values()], [...view.tasks.values()], view.services, waiting, now);
  // Each decision is its own task's compare-and-swap: they go out together.
  await writes.each(decisions, async (d) => {
    const planned = view.tasks.get(d.taskID)!;
    if ('nodeID' in d) {
      await writes.modifyTask(d.taskID, (t) => {
        if (!awaitsScheduling(t) || (t.NodeID ?? d.nodeID) !== d.nodeID || t.Version.Index !== planned.Version.Index) return undefined;
        const { Err: _err, ...status } = t.Status;
        return { ...t, NodeID: d.nodeID, Status: { ...status, Timestamp: timestamp(now), State: 'assigned', Message: d.message } };
      });
    } else {
      unplaced.set(d.taskID, d.err);
      await writes.modifyTask(d.taskID, (t) => {
        if (!awaitsScheduling(t) || (t.Status.State === 'pending' && t.Status.Err === d.err)) return undefined;
        const moved = t.Status.State !== 'pending';
        return {
          ...t,
          Status: { ...t.Status, Timestamp: moved ? timestamp(now) : t.Status.Timestamp, State: 'pending', Message: 'pending task scheduling', Err: d.err },
        };
      });
    }
  });
  return unplaced;
}
