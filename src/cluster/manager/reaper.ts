// The task reaper, as swarmkit's taskreaper: deletes tasks desired `remove` once they have stopped (or were
// never placed, or their node is gone or down), and keeps each instance's history (slot, or node for global
// modes) to TaskHistoryRetentionLimit tasks in all (default 5: the running one and 4 old; negative keeps
// everything; MaxAttempts > 0 raises it to MaxAttempts + 1), deleting the oldest stopped ones first.
// Job tasks are kept (they are the job's record), except those removed.
import type { Task } from '../../wire/swarm';
import type { ManagerWrites } from './writes';
import { ClusterView, instances, isJob, isRunnable, isTerminal, rank } from './view';
import { hasStopped } from './restart';

/** A task past keeping: stopped, or never started and no longer wanted. */
function reapable(t: Task): boolean {
  return !isRunnable(t) && t.DesiredState !== 'complete' && (isTerminal(t.Status.State) || rank(t.Status.State) < rank('assigned'));
}

export function tasksToReap(view: ClusterView): Task[] {
  const out: Task[] = [];
  const limit = view.historyLimit();
  for (const t of view.tasks.values()) {
    if (t.DesiredState === 'remove' && hasStopped(t, view)) out.push(t);
  }
  const removed = new Set(out.map((t) => t.ID));
  for (const [serviceID, tasks] of view.byService) {
    const service = view.services.get(serviceID);
    if (!service || isJob(service.Spec) || limit < 0) continue;
    for (const list of instances(service, tasks.filter((t) => !removed.has(t.ID))).values()) {
      const maxAttempts = list[0]?.Spec.RestartPolicy?.MaxAttempts ?? 0;
      const keep = maxAttempts > 0 ? Math.max(limit, maxAttempts + 1) : limit;
      if (list.length <= keep) continue;
      const old = list.filter(reapable).sort((a, b) => a.Status.Timestamp.localeCompare(b.Status.Timestamp) || a.CreatedAt.localeCompare(b.CreatedAt));
      out.push(...old.slice(0, list.length - keep));
    }
  }
  return out;
}

export async function runReaper(view: ClusterView, writes: ManagerWrites): Promise<void> {
  await writes.each(tasksToReap(view), (t) => writes.deleteTask(t));
}
