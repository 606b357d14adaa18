// The job orchestrators: a replicated job runs at most MaxConcurrent tasks at a time until TotalCompletions
// tasks of the current JobIteration have completed, one per 0-based slot; a global job runs one task per
// node that is ready, active and matching. Job tasks are desired `complete`; tasks of an earlier iteration
// still running are removed; failed ones are the restart supervisor's (as swarmkit's jobs reconciler).
import type { Node, Service, Task } from '../../wire/swarm';
import { placementMatches } from './constraints';
import { newTask } from './task-factory';
import type { ManagerWrites } from './writes';
import { isActiveDesire, rank } from './view';

export function jobIteration(service: Service): number {
  return service.JobStatus?.JobIteration.Index ?? 0;
}

/** A task of the iteration that still counts: completed, or desired to complete and not given up on. */
const counts = (t: Task) => t.Status.State === 'complete' || isActiveDesire(t);

export function planReplicatedJob(service: Service, tasks: Task[]): { slots: number[]; removeOld: string[] } {
  const iteration = jobIteration(service);
  const job = service.Spec.Mode?.ReplicatedJob ?? {};
  const maxConcurrent = job.MaxConcurrent ?? 1;
  const total = job.TotalCompletions ?? maxConcurrent;
  const occupied = new Set<number>();
  let running = 0;
  let complete = 0;
  const removeOld: string[] = [];
  for (const t of tasks) {
    if (t.JobIteration?.Index !== iteration) {
      if (rank(t.Status.State) <= rank('running') && t.DesiredState !== 'remove') removeOld.push(t.ID);
      continue;
    }
    if (t.Status.State === 'complete') complete++;
    else if (isActiveDesire(t)) running++;
    if (counts(t)) occupied.add(t.Slot ?? 0);
  }
  const n = Math.max(0, Math.min(maxConcurrent - running, total - complete - running));
  const slots: number[] = [];
  for (let s = 0; s < total && slots.length < n; s++) if (!occupied.has(s)) slots.push(s);
  return { slots, removeOld };
}

export function planGlobalJob(service: Service, nodes: Node[], tasks: Task[]): { addOn: string[]; removeOld: string[] } {
  const iteration = jobIteration(service);
  const covered = new Set<string>();
  const removeOld: string[] = [];
  for (const t of tasks) {
    if (t.JobIteration?.Index !== iteration) {
      if (rank(t.Status.State) <= rank('running') && t.DesiredState !== 'remove') removeOld.push(t.ID);
    } else if (counts(t) && t.NodeID) covered.add(t.NodeID);
  }
  const addOn = nodes.filter((n) => !covered.has(n.ID) && n.Status.State === 'ready' && n.Spec.Availability === 'active'
    && placementMatches(n, service.Spec.TaskTemplate.Placement)).map((n) => n.ID).sort();
  return { addOn, removeOld };
}

export async function reconcileJob(service: Service, nodes: Node[], tasks: Task[], writes: ManagerWrites, now: number): Promise<void> {
  const iteration = jobIteration(service);
  if (service.Spec.Mode?.ReplicatedJob) {
    const plan = planReplicatedJob(service, tasks);
    for (const id of plan.removeOld) await writes.setDesired(id, 'remove');
    for (const slot of plan.slots) await writes.createTask(newTask(service, { slot, desired: 'complete', jobIteration: iteration }, now));
  } else {
    const plan = planGlobalJob(service, nodes, tasks);
    for (const id of plan.removeOld) await writes.setDesired(id, 'remove');
    for (const nodeID of plan.addOn) await writes.createTask(newTask(service, { nodeID, desired: 'complete', jobIteration: iteration }, now));
  }
}
