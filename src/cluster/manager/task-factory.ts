// New tasks for a service's slot (or node, for global modes), as swarmkit's orchestrator.NewTask makes them:
// a snapshot of the TaskTemplate, state new "created", desired running (or held at ready until a restart or
// update releases it; complete for jobs), and swarm IDs.
import { randomBytes } from 'node:crypto';
import type { Service, Task, TaskState } from '../../wire/swarm';
import { timestamp } from './clock';
import { taskSpecOf } from './view';

/** A swarm object ID: 17 random bytes with the high bit set, in base 36, characters 1..25 (swarmkit's identity.NewID). */
export function newObjectID(): string {
  const bytes = randomBytes(17);
  bytes[0] |= 0x80;
  return BigInt(`0x${bytes.toString('hex')}`).toString(36).slice(1, 26);
}

export interface TaskPlace {
  slot?: number;
  nodeID?: string;
  desired: TaskState;
  /** The job iteration the task runs in (jobs only). */
  jobIteration?: number;
}

export function newTask(service: Service, place: TaskPlace, now: number): Omit<Task, 'Version'> {
  const at = timestamp(now);
  const task: Omit<Task, 'Version'> = {
    ID: newObjectID(),
    CreatedAt: at,
    UpdatedAt: at,
    Labels: {},
    Spec: taskSpecOf(service.Spec),
    ServiceID: service.ID,
    Status: { Timestamp: at, State: 'new', Message: 'created', PortStatus: {} },
    DesiredState: place.desired,
    Volumes: null,
    SpecVersion: service.Version.Index,
  };
  if (place.slot !== undefined) task.Slot = place.slot;
  if (place.nodeID !== undefined) task.NodeID = place.nodeID;
  if (place.jobIteration !== undefined) task.JobIteration = { Index: place.jobIteration };
  return task;
}
