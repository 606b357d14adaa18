// Every change the manager loops make, each a compare-and-swap through ClusterObjects.modify whose mutation
// re-checks its premise on the current object (a write that lost a race to the API or an agent is dropped,
// and the next pass decides again on fresh state). Counts writes so a pass knows whether to look again.
import type { Node, Service, Task, TaskState } from '../../wire/swarm';
import type { ClusterObjects } from '../store/objects';
import { timestamp } from './clock';
import { rank } from './view';

export class ManagerWrites {
  writes = 0;

  constructor(readonly objects: ClusterObjects, private readonly now: () => number) {}

  async createTask(task: Omit<Task, 'Version'>): Promise<Task> {
    const created = await this.objects.create<Task>('tasks', task);
    this.writes++;
    return created;
  }

  /** Moves a task's desired state forward (never back, except ready → running/complete releases). */
  async setDesired(taskID: string, to: TaskState, onlyIf?: (t: Task) => boolean): Promise<boolean> {
    return this.modifyTask(taskID, (t) => {
      if (t.DesiredState === to) return undefined;
      const release = t.DesiredState === 'ready' && (to === 'running' || to === 'complete');
      if (!release && rank(to) < rank(t.DesiredState)) return undefined;
      if (onlyIf && !onlyIf(t)) return undefined;
      return { ...t, DesiredState: to, UpdatedAt: timestamp(this.now()) };
    });
  }

  async modifyTask(taskID: string, mutate: (t: Task) => Task | undefined): Promise<boolean> {
    const out = await this.objects.modify<Task>('tasks', taskID, mutate);
    if (out) this.writes++;
    return out !== undefined;
  }

  async modifyService(serviceID: string, mutate: (s: Service) => Service | undefined): Promise<boolean> {
    const out = await this.objects.modify<Service>('services', serviceID, mutate);
    if (out) this.writes++;
    return out !== undefined;
  }

  async modifyNode(nodeID: string, mutate: (n: Node) => Node | undefined): Promise<boolean> {
    const out = await this.objects.modify<Node>('nodes', nodeID, mutate);
    if (out) this.writes++;
    return out !== undefined;
  }

  async deleteTask(task: Task): Promise<boolean> {
    try {
      await this.objects.remove('tasks', task.ID, task.Version.Index);
      this.writes++;
      return true;
    } catch {
      // Changed or gone since the view was read: the next pass sees it as it is now.
      return false;
    }
  }
}
