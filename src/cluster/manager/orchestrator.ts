// The orchestration step: brings each service's tasks in line with its mode (replicated, global, jobs) and
// marks the tasks of deleted services remove. Replicated and global services are reconciled when the
// service or the node set changes (swarmkit's orchestrators are event driven: a slot left dead by a
// restart policy of none is refilled on the service's next update, not at once); jobs on every pass.
import type { ManagerWrites } from './writes';
import { ClusterView, modeOf } from './view';
import { reconcileGlobal } from './global';
import { reconcileJob } from './jobs';
import { reconcileReplicated } from './replicated';

export class Orchestrator {
  private readonly seenServices = new Map<string, number>();
  private seenNodes = '';

  async run(view: ClusterView, writes: ManagerWrites, now: number): Promise<void> {
    const nodes = [...view.nodes.values()];
    const nodesKey = nodes.map((n) => `${n.ID}@${n.Version.Index}`).sort().join(',');
    const nodesChanged = nodesKey !== this.seenNodes;
    for (const id of this.seenServices.keys()) if (!view.services.has(id)) this.seenServices.delete(id);
    for (const service of view.services.values()) {
      const tasks = view.tasksOf(service.ID);
      const mode = modeOf(service.Spec);
      const changed = this.seenServices.get(service.ID) !== service.Version.Index;
      if (mode === 'replicated') {
        if (changed) await reconcileReplicated(service, tasks, writes, now);
      } else if (mode === 'global') {
        if (changed || nodesChanged) await reconcileGlobal(service, nodes, tasks, writes, now);
      } else {
        await reconcileJob(service, nodes, tasks, writes, now);
      }
      this.seenServices.set(service.ID, service.Version.Index);
    }
    this.seenNodes = nodesKey;
    for (const [serviceID, tasks] of view.byService) {
      if (view.services.has(serviceID)) continue;
      await writes.each(tasks.filter((t) => t.DesiredState !== 'remove'), (t) => writes.setDesired(t.ID, 'remove'));
    }
  }

  /** Forget what was reconciled, so the next run looks at everything (a new term of leadership). */
  reset(): void {
    this.seenServices.clear();
    this.seenNodes = '';
  }
}
