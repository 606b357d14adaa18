// The global orchestrator: one task per node that can take work (not drained, not down, not paused, matching
// the constraints; resources are the scheduler's to judge). A node that is drained, down, gone or no longer
// matching has its tasks shut down and not replaced; a paused node keeps what it runs. Global jobs use the
// same rule with one task per node per job iteration (jobs.ts).
import type { Node, Service, Task } from '../../wire/swarm';
import { placementMatches } from './constraints';
import { newTask } from './task-factory';
import type { ManagerWrites } from './writes';
import { isRunnable } from './view';

/** A node a global service should have a task on now (new tasks go only to these). */
export function takesNewGlobalTasks(node: Node, service: Service): boolean {
  return node.Spec.Availability === 'active' && node.Status.State !== 'down' && placementMatches(node, service.Spec.TaskTemplate.Placement);
}

/** A node a global service's existing task may stay on. */
export function keepsGlobalTasks(node: Node | undefined, service: Service): boolean {
  return !!node && node.Spec.Availability !== 'drain' && node.Status.State !== 'down' && placementMatches(node, service.Spec.TaskTemplate.Placement);
}

export interface GlobalPlan { addOn: string[]; shutdown: string[] }

export function planGlobal(service: Service, nodes: Node[], tasks: Task[]): GlobalPlan {
  const byID = new Map(nodes.map((n) => [n.ID, n]));
  const covered = new Set<string>();
  const shutdown: string[] = [];
  for (const t of tasks) {
    if (!isRunnable(t)) continue;
    if (!keepsGlobalTasks(byID.get(t.NodeID ?? ''), service)) shutdown.push(t.ID);
    else covered.add(t.NodeID!);
  }
  const addOn = nodes.filter((n) => !covered.has(n.ID) && takesNewGlobalTasks(n, service)).map((n) => n.ID).sort();
  return { addOn, shutdown };
}

export async function reconcileGlobal(service: Service, nodes: Node[], tasks: Task[], writes: ManagerWrites, now: number): Promise<void> {
  const plan = planGlobal(service, nodes, tasks);
  await writes.each(plan.shutdown, (id) => writes.setDesired(id, 'shutdown'));
  await writes.each(plan.addOn, (nodeID) => writes.createTask(newTask(service, { nodeID, desired: 'running' }, now)));
}
