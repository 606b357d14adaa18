// Task status reports: the order of observed states, and the compare-and-swap that writes a new status only when it
// moves the task forward (the manager may have moved it on, e.g. orphaned it, or another write may have raced).
import type { ClusterObjects } from '../store/objects';
import { TASK_STATES, type Task, type TaskState, type TaskStatus } from '../../wire/swarm';

export function stateRank(state: TaskState): number {
  return TASK_STATES.indexOf(state);
}

export function isAfter(a: TaskState, b: TaskState): boolean {
  return stateRank(a) > stateRank(b);
}

/** A status to report: the state it reaches, with its message or error. */
export interface StatusReport {
  State: TaskState;
  /** Absent: keep the task's Message (a failure keeps the message of the state it failed in, as swarmkit). */
  Message?: string;
  Err?: string;
  ContainerStatus?: TaskStatus['ContainerStatus'];
  Ports?: TaskStatus['PortStatus']['Ports'];
}

/**
 * Writes `report` as the task's status if it is still this node's and the report is ahead of what is stored.
 * Resolves to the task as stored afterwards (undefined when it is gone).
 */
export function reportStatus(objects: ClusterObjects, nodeId: string, taskId: string, report: StatusReport, now: () => Date): Promise<Task | undefined> {
  return objects.modify<Task>('tasks', taskId, (current) => {
    if (current.NodeID !== nodeId || !isAfter(report.State, current.Status.State)) return undefined;
    const timestamp = now().toISOString();
    const status: TaskStatus = {
      Timestamp: timestamp,
      State: report.State,
      Message: report.Message ?? current.Status.Message,
      PortStatus: report.Ports ? { Ports: report.Ports } : current.Status.PortStatus ?? {},
    };
    if (report.Err) status.Err = report.Err;
    const containerStatus = report.ContainerStatus ?? current.Status.ContainerStatus;
    if (containerStatus) status.ContainerStatus = containerStatus;
    return { ...current, UpdatedAt: timestamp, Status: status };
  });
}
