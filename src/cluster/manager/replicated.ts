// The replicated orchestrator: keeps Replicas slots (1..N) of a service running. Scaling up fills the lowest
// free slot numbers; scaling down marks surplus slots remove, slots not yet running first, then those on the
// nodes holding the most tasks of the service (swarmkit's order). Restarts are the restart supervisor's job.
import type { Service, Task } from '../../wire/swarm';
import { newTask } from './task-factory';
import type { ManagerWrites } from './writes';
import { isRunnable } from './view';

export interface SlotPlan {
  /** Slot numbers to create tasks in. */
  add: number[];
  /** Slot numbers whose tasks go to remove. */
  remove: number[];
}

export function planReplicated(replicas: number, tasks: Task[]): SlotPlan {
  const running = new Map<number, Task[]>();
  for (const t of tasks) {
    if (!isRunnable(t)) continue;
    const slot = t.Slot ?? 0;
    running.set(slot, [...(running.get(slot) ?? []), t]);
  }
  const add: number[] = [];
  for (let slot = 1; running.size + add.length < replicas; slot++) if (!running.has(slot)) add.push(slot);
  const remove: number[] = [];
  if (running.size > replicas) {
    // Rank each running slot by how many tasks of the service its node already had before it (1st, 2nd...).
    const perNode = new Map<string, number>();
    const ranked = [...running.entries()].sort(([a], [b]) => a - b).map(([slot, list]) => {
      const live = list.some((t) => t.Status.State === 'running');
      const node = list.find((t) => t.NodeID)?.NodeID ?? '';
      const index = live ? (perNode.get(node) ?? 0) + 1 : 0;
      if (live) perNode.set(node, index);
      return { slot, live, index };
    });
    ranked.sort((a, b) => Number(b.live) - Number(a.live) || a.index - b.index || a.slot - b.slot);
    for (const r of ranked.slice(replicas)) remove.push(r.slot);
  }
  return { add, remove };
}

export async function reconcileReplicated(service: Service, tasks: Task[], writes: ManagerWrites, now: number): Promise<void> {
  const replicas = service.Spec.Mode?.Replicated?.Replicas ?? 1;
  const plan = planReplicated(replicas, tasks);
  await writes.each(plan.add, (slot) => writes.createTask(newTask(service, { slot, desired: 'running' }, now)));
  const gone = new Set(plan.remove);
  // The whole slot goes, history included: removed slots vanish from `service ps`.
  await writes.each(tasks.filter((t) => gone.has(t.Slot ?? 0)), (t) => writes.setDesired(t.ID, 'remove'));
}
