// The rolling updater, as swarmkit's update.Updater: when a service's slots are "dirty" (a task made from
// another spec, or more than one task wanting to run), replaces them Parallelism at a time (0 = all), stop-
// first or start-first, waiting for each new task to run and then Delay; a task made by the update that
// stops before running or within Monitor of it is a failure, and past MaxFailureRatio the FailureAction
// pauses, rolls back (Spec ← PreviousSpec, PreviousSpec dropped) or carries on. A rollback (automatic, or
// manual: the API swaps the specs and sets rollback_started) runs the same way with RollbackConfig.
// UpdateStatus states and messages are swarmkit's; a task that cannot be placed is named in the message.
import { withSpecChange } from '../store/spec-base';
import type { FailureAction, Node, Service, Task, UpdateConfig, UpdateStatus } from '../../wire/swarm';
import { nsToMs, timestamp } from './clock';
import { placementMatches } from './constraints';
import type { DelayedStarts } from './restart';
import { newTask } from './task-factory';
import type { ManagerWrites } from './writes';
import { ClusterView, canonical, instances, isGlobalMode, isJob, isRunnable, isTerminal, taskSpecOf } from './view';

export interface EffectiveUpdateConfig {
  parallelism: number;
  delayMs: number;
  failureAction: FailureAction;
  monitorMs: number;
  maxFailureRatio: number;
  order: 'stop-first' | 'start-first';
}

const DEFAULT_MONITOR_MS = 5_000;

export function effectiveConfig(config: UpdateConfig | undefined): EffectiveUpdateConfig {
  return {
    parallelism: config?.Parallelism ?? 1,
    delayMs: nsToMs(config?.Delay),
    failureAction: config?.FailureAction || 'pause',
    monitorMs: config?.Monitor ? nsToMs(config.Monitor) : DEFAULT_MONITOR_MS,
    maxFailureRatio: config?.MaxFailureRatio ?? 0,
    order: config?.Order || 'stop-first',
  };
}

/**
 * Whether a task is out of date with the service: its spec differs, except a change of placement alone that
 * its node still satisfies.
 */
export function isOutdated(task: Task, service: Service, node: Node | undefined): boolean {
  const want = taskSpecOf(service.Spec);
  if (canonical(task.Spec) === canonical(want)) return false;
  const { Placement: _a, ...restHave } = task.Spec;
  const { Placement: _b, ...restWant } = want;
  if (canonical(restHave) !== canonical(restWant)) return true;
  return !node || !placementMatches(node, want.Placement);
}

/** The instances (slot, or node for global) to update, with their runnable tasks, in slot/node order. */
export function dirtySlots(service: Service, tasks: Task[], nodes: Map<string, Node>): { key: string; tasks: Task[] }[] {
  const out: { key: string; tasks: Task[] }[] = [];
  for (const [key, list] of instances(service, tasks.filter(isRunnable))) {
    if (list.length > 1 || list.some((t) => isOutdated(t, service, nodes.get(t.NodeID ?? '')))) out.push({ key, tasks: list });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
}

interface SlotWork { key: string; newTaskID: string; oldTaskIDs: string[] }

interface Run {
  specKey: string;
  rollback: boolean;
  config: EffectiveUpdateConfig;
  totalDirty: number;
  inFlight: Map<string, SlotWork>;
  /** Tasks this update made, watched until Monitor after they run. */
  watched: Map<string, { runningAt?: number }>;
  failures: number;
  nextStartAt: number;
  lastDoneAt: number;
}

const FAILURE_SUFFIX = 'due to failure or early termination of task';

export class RollingUpdater {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly delayed: DelayedStarts) {}

  /** One step of every service's update; `unplaced` maps waiting task IDs to why no node fits them. */
  async run(view: ClusterView, writes: ManagerWrites, now: number, unplaced: Map<string, string>, wake: (at: number) => void): Promise<void> {
    for (const id of this.runs.keys()) if (!view.services.has(id)) this.runs.delete(id);
    for (const service of view.services.values()) {
      if (isJob(service.Spec)) continue;
      await this.step(service, view, writes, now, unplaced, wake);
    }
  }

  private async step(service: Service, view: ClusterView, writes: ManagerWrites, now: number, unplaced: Map<string, string>, wake: (at: number) => void): Promise<void> {
    const state = service.UpdateStatus?.State;
    if (state === 'paused' || state === 'rollback_paused') {
      this.runs.delete(service.ID);
      return;
    }
    const specKey = canonical(taskSpecOf(service.Spec));
    let run = this.runs.get(service.ID);
    if (run && run.specKey !== specKey) {
      this.runs.delete(service.ID);
      run = undefined;
    }
    const tasks = view.tasksOf(service.ID);
    const dirty = dirtySlots(service, tasks, view.nodes).filter((d) => !run?.inFlight.has(d.key));
    const inProgress = state === 'updating' || state === 'rollback_started';
    if (!run) {
      if (dirty.length === 0 && !inProgress) return;
      const rollback = state === 'rollback_started';
      run = {
        specKey, rollback, config: effectiveConfig(rollback ? service.Spec.RollbackConfig : service.Spec.UpdateConfig),
        totalDirty: Math.max(1, dirty.length), inFlight: new Map(), watched: new Map(), failures: 0, nextStartAt: now, lastDoneAt: now,
      };
      if (!inProgress) {
        const started = await writes.modifyService(service.ID, (s) => (this.same(s, specKey, state)
          ? { ...s, UpdateStatus: { State: 'updating', StartedAt: timestamp(now), Message: 'update in progress' } } : undefined));
        if (!started) return;
      }
      this.runs.set(service.ID, run);
    }

    // Failures among the tasks this update made.
    for (const [id, watch] of run.watched) {
      const t = view.tasks.get(id);
      if (!t) {
        run.watched.delete(id);
        continue;
      }
      if (t.Status.State === 'running' && watch.runningAt === undefined) watch.runningAt = now;
      const failed = isTerminal(t.Status.State) && t.Status.State !== 'shutdown'
        && (watch.runningAt === undefined || Date.parse(t.Status.Timestamp) - watch.runningAt <= run.config.monitorMs);
      if (failed) {
        run.watched.delete(id);
        run.failures++;
        if (run.config.failureAction !== 'continue' && run.failures / run.totalDirty > run.config.maxFailureRatio) {
          this.runs.delete(service.ID);
          await this.fail(service, run, id, writes, now);
          return;
        }
      } else if (isTerminal(t.Status.State) || (watch.runningAt !== undefined && now >= watch.runningAt + run.config.monitorMs)) {
        run.watched.delete(id);
      } else if (watch.runningAt !== undefined) {
        wake(watch.runningAt + run.config.monitorMs);
      }
    }

    // Slots being replaced: done once the new task runs (or has stopped: the restart supervisor has it then).
    for (const work of run.inFlight.values()) {
      const t = view.tasks.get(work.newTaskID);
      if (t && !isTerminal(t.Status.State) && t.Status.State !== 'running') continue;
      if (t?.Status.State === 'running' && run.config.order === 'start-first') {
        for (const old of work.oldTaskIDs) await writes.setDesired(old, 'shutdown');
      }
      run.inFlight.delete(work.key);
      run.lastDoneAt = now;
      run.nextStartAt = Math.max(run.nextStartAt, now + run.config.delayMs);
    }

    // Start the next slots.
    const room = () => run.config.parallelism === 0 || run.inFlight.size < run.config.parallelism;
    while (dirty.length > 0 && room() && now >= run.nextStartAt) {
      await this.startSlot(service, run, dirty.shift()!, writes, now);
    }
    if (dirty.length > 0 && now < run.nextStartAt) wake(run.nextStartAt);

    if (dirty.length === 0 && run.inFlight.size === 0 && run.watched.size === 0) {
      const doneAt = run.lastDoneAt + Math.max(run.config.monitorMs, run.config.delayMs + 1_000);
      if (now < doneAt) {
        wake(doneAt);
        return;
      }
      this.runs.delete(service.ID);
      await writes.modifyService(service.ID, (s) => {
        if (!this.same(s, specKey, s.UpdateStatus?.State) || !['updating', 'rollback_started'].includes(s.UpdateStatus?.State ?? '')) return undefined;
        const status: UpdateStatus = run.rollback
          ? { State: 'rollback_completed', Message: 'rollback completed' }
          : { State: 'completed', Message: 'update completed' };
        return { ...s, UpdateStatus: { State: status.State, StartedAt: s.UpdateStatus?.StartedAt, CompletedAt: timestamp(now), Message: status.Message } };
      });
      return;
    }
    await this.explainUnplaced(service, run, tasks, unplaced, writes);
  }

  private same(s: Service, specKey: string, state: UpdateStatus['State']): boolean {
    return canonical(taskSpecOf(s.Spec)) === specKey && s.UpdateStatus?.State === state;
  }

  private async startSlot(service: Service, run: Run, slot: { key: string; tasks: Task[] }, writes: ManagerWrites, now: number): Promise<void> {
    const first = slot.tasks[0]!;
    const global = isGlobalMode(service.Spec);
    const startFirst = run.config.order === 'start-first';
    const old = slot.tasks.map((t) => t.ID);
    const task = newTask(service, {
      slot: global ? undefined : first.Slot,
      nodeID: global ? first.NodeID : undefined,
      desired: startFirst ? 'running' : 'ready',
    }, now);
    if (!startFirst) {
      for (const id of old) await writes.setDesired(id, 'shutdown');
      this.delayed.hold(task.ID, now, old);
    }
    await writes.createTask(task);
    run.inFlight.set(slot.key, { key: slot.key, newTaskID: task.ID, oldTaskIDs: old });
    run.watched.set(task.ID, {});
  }

  private async fail(service: Service, run: Run, taskID: string, writes: ManagerWrites, now: number): Promise<void> {
    const rollingBack = run.rollback;
    await writes.modifyService(service.ID, (s) => {
      if (!this.same(s, run.specKey, s.UpdateStatus?.State)) return undefined;
      const startedAt = s.UpdateStatus?.StartedAt;
      if (rollingBack || run.config.failureAction === 'pause' || !s.PreviousSpec) {
        return {
          ...s,
          UpdateStatus: rollingBack
            ? { State: 'rollback_paused', StartedAt: startedAt, Message: `rollback paused ${FAILURE_SUFFIX} ${taskID}` }
            : { State: 'paused', StartedAt: startedAt, Message: `update paused ${FAILURE_SUFFIX} ${taskID}` },
        };
      }
      const { PreviousSpec: _dropped, ...rest } = s;
      return withSpecChange(s, {
        ...rest,
        Spec: s.PreviousSpec,
        UpdatedAt: timestamp(now),
        UpdateStatus: { State: 'rollback_started', StartedAt: timestamp(now), Message: `update rolled back ${FAILURE_SUFFIX} ${taskID}` },
      });
    });
  }

  /** Better than Docker: while updating, the service's UpdateStatus says why a task of it cannot be placed. */
  private async explainUnplaced(service: Service, run: Run, tasks: Task[], unplaced: Map<string, string>, writes: ManagerWrites): Promise<void> {
    const stuck = tasks.find((t) => unplaced.has(t.ID));
    const base = run.rollback ? service.UpdateStatus?.Message ?? 'rollback in progress' : 'update in progress';
    const plain = base.replace(/; task \S+ cannot be placed: .*$/, '');
    const message = stuck ? `${plain}; task ${stuck.ID} cannot be placed: ${unplaced.get(stuck.ID)}` : plain;
    if (service.UpdateStatus?.Message === message || !service.UpdateStatus) return;
    await writes.modifyService(service.ID, (s) => (this.same(s, run.specKey, service.UpdateStatus?.State) && s.UpdateStatus?.Message !== message
      ? { ...s, UpdateStatus: { ...s.UpdateStatus, Message: message } } : undefined));
  }
}
