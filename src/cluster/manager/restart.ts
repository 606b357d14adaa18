// The restart supervisor, as swarmkit's restart.Supervisor: a task that stopped while still wanted (observed
// state past running, desired ≤ running; or a job task that failed), or a replicated task whose node was
// drained, went down or was deleted, is shut down and, if its RestartPolicy allows, replaced in the same
// slot (same node, for global modes) by a task held at desired `ready`. The replacement is released to
// running (complete, for jobs) after the restart Delay (default 5s) and once the old task has stopped (at
// most a minute's wait; no wait when it is already dead or its node is down).
// No Delay when the task did not fail but lost its node (drained, down or deleted): the Delay paces a task
// that fails again and again, and a node's failure is not the task's. swarmkit applies it to a down node
// too; skipping it keeps failover under 10 s (docs/decisions/0017-swarm-on-etcd.md, "Failover"). Such a replacement,
// with nothing to wait for, is created wanting to run at once (one write and one pass fewer).
// The updater's replacements are held and released through the same DelayedStarts.
import type { Node, Service, Task } from '../../wire/swarm';
import { nsToMs } from './clock';
import { keepsGlobalTasks } from './global';
import { newTask } from './task-factory';
import type { ManagerWrites } from './writes';
import { ClusterView, canonical, instanceKey, isGlobalMode, isJob, isRunnable, isTerminal, rank } from './view';

export const DEFAULT_RESTART_DELAY_MS = 5_000;
const STOP_WAIT_MS = 60_000;

interface HeldStart {
  releaseAt: number;
  /** Tasks that must have stopped first (unless `deadline` passes). */
  waitFor: string[];
  deadline: number;
}

/** Replacement tasks held at desired `ready` until their release; a new leader falls back on CreatedAt + Delay. */
export class DelayedStarts {
  private readonly held = new Map<string, HeldStart>();

  hold(taskID: string, releaseAt: number, waitFor: string[]): void {
    this.held.set(taskID, { releaseAt, waitFor, deadline: releaseAt + STOP_WAIT_MS });
  }

  forget(taskID: string): void {
    this.held.delete(taskID);
  }

  /** What holds a task, from memory or (after a leader change) from its slot's other tasks. */
  holdOf(task: Task, view: ClusterView): HeldStart {
    const known = this.held.get(task.ID);
    if (known) return known;
    const service = view.services.get(task.ServiceID);
    const releaseAt = Date.parse(task.CreatedAt) + restartDelay(task);
    const key = instanceKey(service?.Spec, task);
    const waitFor = view.tasksOf(task.ServiceID).filter((t) => t.ID !== task.ID && instanceKey(service?.Spec, t) === key).map((t) => t.ID);
    return { releaseAt, waitFor, deadline: releaseAt + STOP_WAIT_MS };
  }
}

function restartDelay(task: Pick<Task, 'Spec'>): number {
  const delay = task.Spec.RestartPolicy?.Delay;
  return delay === undefined ? DEFAULT_RESTART_DELAY_MS : nsToMs(delay);
}

/** Whether a task no longer runs anywhere: stopped, never placed, deleted, or on a node that is down or gone. */
export function hasStopped(task: Task | undefined, view: ClusterView): boolean {
  if (!task) return true;
  if (isTerminal(task.Status.State) || !task.NodeID || rank(task.Status.State) < rank('assigned')) return true;
  const node = view.nodes.get(task.NodeID);
  return !node || node.Status.State === 'down';
}

interface RestartRecord { specKey: string; total: number; at: number[] }

/** Restarts per instance (slot, or node for global), for MaxAttempts and Window; reset when the spec changes. */
export class RestartHistory {
  private readonly records = new Map<string, RestartRecord>();

  private key(service: Service, t: Pick<Task, 'ServiceID' | 'NodeID' | 'Slot'>): string {
    return `${t.ServiceID}/${instanceKey(service.Spec, t)}`;
  }

  record(service: Service, t: Pick<Task, 'ServiceID' | 'NodeID' | 'Slot' | 'Spec'>, now: number): void {
    const key = this.key(service, t);
    const specKey = canonical(t.Spec);
    const rec = this.records.get(key);
    if (!rec || rec.specKey !== specKey) this.records.set(key, { specKey, total: 1, at: [now] });
    else {
      rec.total++;
      rec.at.push(now);
    }
  }

  shouldRestart(service: Service, t: Task): boolean {
    const policy = t.Spec.RestartPolicy ?? {};
    const condition = policy.Condition ?? 'any';
    if (condition === 'none') return false;
    if (t.Status.State === 'complete' && (condition === 'on-failure' || isJob(service.Spec))) return false;
    const max = policy.MaxAttempts ?? 0;
    if (max === 0) return true;
    const rec = this.records.get(this.key(service, t));
    if (!rec || rec.specKey !== canonical(t.Spec)) return true;
    const window = nsToMs(policy.Window);
    if (window === 0) return rec.total < max;
    const at = Date.parse(t.Status.Timestamp);
    const inWindow = rec.at.filter((r) => r > at - window && r < at).length;
    return inWindow < max;
  }
}

/** Why a task needs the restart path now, or undefined. */
function restartCause(task: Task, service: Service, node: Node | undefined): 'stopped' | 'node' | undefined {
  const job = isJob(service.Spec);
  const wanted = isRunnable(task) || (job && task.DesiredState === 'complete');
  if (!wanted) return undefined;
  if (isTerminal(task.Status.State)) return job && task.Status.State === 'complete' ? undefined : 'stopped';
  if (!task.NodeID || isGlobalMode(service.Spec)) return undefined;
  if (!node || node.Spec.Availability === 'drain' || node.Status.State === 'down') return 'node';
  return undefined;
}

export class RestartSupervisor {
  readonly delayed = new DelayedStarts();
  readonly history = new RestartHistory();

  /** Shuts down and replaces the tasks that need it, then releases held replacements whose time has come. */
  async run(view: ClusterView, writes: ManagerWrites, now: number, wake: (at: number) => void): Promise<void> {
    // One task's restart touches only its own slot (or node, for global): they go out together.
    await writes.each(view.tasks.values(), async (task) => {
      const service = view.services.get(task.ServiceID);
      if (!service) return;
      const node = task.NodeID ? view.nodes.get(task.NodeID) : undefined;
      const cause = restartCause(task, service, node);
      if (cause) await this.restart(task, service, node, cause, writes, now);
    });
    await writes.each(view.tasks.values(), async (task) => {
      if (task.DesiredState !== 'ready') return;
      const service = view.services.get(task.ServiceID);
      if (!service) return;
      const hold = this.delayed.holdOf(task, view);
      const stopped = hold.waitFor.every((id) => hasStopped(view.tasks.get(id), view));
      if (now >= hold.releaseAt && (stopped || now >= hold.deadline)) {
        const to = isJob(service.Spec) ? 'complete' : 'running';
        if (await writes.setDesired(task.ID, to, (t) => t.DesiredState === 'ready')) this.delayed.forget(task.ID);
      } else {
        wake(now < hold.releaseAt ? hold.releaseAt : hold.deadline);
      }
    });
  }

  private async restart(task: Task, service: Service, node: Node | undefined, cause: 'stopped' | 'node', writes: ManagerWrites, now: number): Promise<void> {
    const shut = await writes.setDesired(task.ID, 'shutdown', (t) => t.Version.Index === task.Version.Index);
    if (!shut) return;
    if (!this.history.shouldRestart(service, task)) return;
    // A global task whose node can no longer hold it is the global orchestrator's to drop, not to replace.
    if (isGlobalMode(service.Spec) && !keepsGlobalTasks(node, service)) return;
    const job = isJob(service.Spec);
    const nodeLost = cause === 'node';
    const waitStop = !(node?.Status.State === 'down' || isTerminal(task.Status.State));
    const immediate = nodeLost && !waitStop;
    const replacement = newTask(service, {
      slot: isGlobalMode(service.Spec) ? undefined : task.Slot,
      nodeID: isGlobalMode(service.Spec) ? task.NodeID : undefined,
      desired: immediate ? (job ? 'complete' : 'running') : 'ready',
      jobIteration: job ? task.JobIteration?.Index ?? 0 : undefined,
    }, now);
    if (!immediate) this.delayed.hold(replacement.ID, now + (nodeLost ? 0 : restartDelay(replacement)), waitStop ? [task.ID] : []);
    this.history.record(service, replacement, now);
    await writes.createTask(replacement);
  }
}
