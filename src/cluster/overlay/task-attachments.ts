// A task's NetworksAttachments, as swarmkit's allocator fills them: an address on each overlay network of the task's
// spec (the ingress network first when its service publishes ingress ports), leased when the manager creates the task
// and freed when it deletes it. The manager's writes call these around their store writes (manager/writes.ts).
import type { Service, Task } from '../../wire/swarm';
import type { ClusterNetwork } from '../objects-api';
import type { ClusterObjects } from '../store/objects';
import type { OverlayAllocator } from './allocator';
import type { AddressOwner } from './model';
import { isIngress, needsIngress, prefixOf, swarmkitNetwork } from './networks-api';

/** What ManagerWrites needs: fill a new task's attachments before it is stored, free them after it is deleted. */
export interface TaskNetworks {
  attach(task: Omit<Task, 'Version'>): Promise<Omit<Task, 'Version'>>;
  release(task: Pick<Task, 'ID' | 'NetworksAttachments'>): Promise<void>;
}

export const taskOwner = (taskId: string): AddressOwner => ({ kind: 'task', taskId, nodeId: '' });

/** The networks a task of `service` attaches to, in swarmkit's order (pure). */
export function taskNetworks(task: Pick<Task, 'Spec'>, service: Pick<Service, 'Spec'> | undefined, networks: readonly ClusterNetwork[]): ClusterNetwork[] {
  const byId = new Map(networks.map((n) => [n.ID, n]));
  const out: ClusterNetwork[] = [];
  const ingress = networks.find(isIngress);
  if (ingress && service && needsIngress(service)) out.push(ingress);
  for (const a of task.Spec.Networks ?? []) {
    const n = byId.get(a.Target);
    if (n?.Overlay && !out.includes(n)) out.push(n);
  }
  return out;
}

export class TaskAttachments implements TaskNetworks {
  constructor(private readonly objects: ClusterObjects, private readonly allocator: OverlayAllocator) {}

  async attach(task: Omit<Task, 'Version'>): Promise<Omit<Task, 'Version'>> {
    const [service, networks] = await Promise.all([
      this.objects.get<Service>('services', task.ServiceID),
      this.objects.list<ClusterNetwork>('networks').then((l) => l.items),
    ]);
    const wanted = taskNetworks(task, service, networks);
    if (!wanted.length) return task;
    const attachments: NonNullable<Task['NetworksAttachments']> = [];
    try {
      for (const n of wanted) {
        const ip = await this.allocator.allocateAddress(n.ID, n.Overlay!, taskOwner(task.ID));
        attachments.push({ Network: swarmkitNetwork(n), Addresses: [`${ip}/${prefixOf(n.Overlay)}`] });
      }
    } catch (err) {
      await this.release({ ID: task.ID, NetworksAttachments: attachments });
      throw err;
    }
    return { ...task, NetworksAttachments: attachments };
  }

  async release(task: Pick<Task, 'ID' | 'NetworksAttachments'>): Promise<void> {
    for (const a of task.NetworksAttachments ?? []) {
      const id = a.Network.ID;
      if (typeof id === 'string') await this.allocator.releaseAddress(id, taskOwner(task.ID));
    }
  }
}
