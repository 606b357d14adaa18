// Every change the manager loops make, each a compare-and-swap through ClusterObjects.modify whose mutation
// re-checks its premise on the current object (a write that lost a race to the API or an agent is dropped,
// and the next pass decides again on fresh state). Counts writes so a pass knows whether to look again.
// Independent writes (one per task) go out together through each(): etcd commits the proposals that arrive
// together in one raft round and one fsync, where one after the other each waits for its own.
import type { Node, Service, Task, TaskState } from '../../wire/swarm';
import type { ClusterObjects } from '../store/objects';
import type { TaskNetworks } from '../overlay/task-attachments';
import { timestamp } from './clock';
import { rank } from './view';

/** How many independent writes a loop has in flight at once. */
export const WRITES_IN_FLIGHT = 16;

export class ManagerWrites {
  writes = 0;

  /** `networks`: leases a new task's overlay addresses before it is stored and frees them once it is deleted. */
  constructor(readonly objects: ClusterObjects, private readonly now: () => number, private readonly networks?: TaskNetworks) {}

  /**
   * Runs `write` for every item, at most WRITES_IN_FLIGHT at once, for writes that do not depend on each other.
   * Every write is waited for (none is left running into the next pass); then the first failure, if any, is thrown.
   */
  async each<T>(items: Iterable<T>, write: (item: T) => Promise<unknown>): Promise<void> {
    const queue = [...items];
    let failure: { err: unknown } | undefined;
    const lane = async () => {
      while (queue.length) {
        const item = queue.shift() as T;
        try {
          await write(item);
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, queue.length) }, lane));
    if (failure) throw failure.err;
  }

  async createTask(task: Omit<Task, 'Version'>): Promise<Task> {
    const attached = this.networks ? await this.networks.attach(task) : task;
    let created: Task;
    try {
      created = await this.objects.create<Task>('tasks', attached);
    } catch (err) {
      await this.networks?.release(attached).catch(() => undefined);
      throw err;
    }
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

  modifyTask(taskID: string, mutate: (t: Task) => Task | undefined): Promise<boolean> {
    return this.modify<Task>('tasks', taskID, mutate);
  }

  modifyService(serviceID: string, mutate: (s: Service) => Service | undefined): Promise<boolean> {
    return this.modify<Service>('services', serviceID, mutate);
  }

  modifyNode(nodeID: string, mutate: (n: Node) => Node | undefined): Promise<boolean> {
    return this.modify<Node>('nodes', nodeID, mutate);
  }

  /** True when the mutation was written (modify hands back the current object when the mutation declines). */
  private async modify<T extends Task | Service | Node>(kind: 'tasks' | 'services' | 'nodes', id: string, mutate: (o: T) => T | undefined): Promise<boolean> {
    let wrote = false;
    const out = await this.objects.modify<T>(kind, id, (current) => {
      const next = mutate(current);
      wrote = next !== undefined;
      return next;
    });
    if (out === undefined || !wrote) return false;
    this.writes++;
    return true;
  }

  async deleteTask(task: Task): Promise<boolean> {
    try {
      await this.objects.remove('tasks', task.ID, task.Version.Index);
    } catch {
      // Changed or gone since the view was read: the next pass sees it as it is now.
      return false;
    }
    this.writes++;
    await this.networks?.release(task);
    return true;
  }
}
