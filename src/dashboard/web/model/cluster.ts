// The cluster view's figures: replicas running/desired per service and where tasks run, from /services and /tasks.
import type { Node, Service, Task } from '../../../wire/swarm';

/** Running and desired tasks of a service: ServiceStatus when the API gave it, else counted from the tasks. */
export function replicaCounts(service: Service, tasks: readonly Task[]): { running: number; desired: number } {
  const status = service.ServiceStatus;
  const own = tasks.filter((t) => t.ServiceID === service.ID);
  const running = status?.RunningTasks ?? own.filter((t) => t.Status?.State === 'running').length;
  const replicated = service.Spec?.Mode?.Replicated?.Replicas;
  const desired = status?.DesiredTasks ?? replicated ?? own.filter((t) => t.DesiredState === 'running').length;
  return { running, desired };
}

/** Tasks that should run or do, per node ID (tasks not yet placed under ''), for the placement grid. */
export function tasksByNode(tasks: readonly Task[]): Map<string, Task[]> {
  const out = new Map<string, Task[]>();
  for (const t of tasks) {
    if (t.DesiredState !== 'running' && t.Status?.State !== 'running') continue;
    const key = t.NodeID ?? '';
    const list = out.get(key) ?? [];
    list.push(t);
    out.set(key, list);
  }
  return out;
}

/** A node's name for people: its hostname, else its ID's first 12 characters. */
export function nodeLabel(node: Node): string {
  return node.Description?.Hostname || node.ID.slice(0, 12);
}
