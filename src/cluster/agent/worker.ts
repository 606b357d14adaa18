// The node agent's worker: watches the tasks assigned to this node and drives each through swarmkit's state machine
// (agent/exec.Do): assigned → accepted → preparing → ready → starting → running → complete/failed, rejected on errors
// before starting, shutdown when desired; each step one compare-and-swap status write that only moves forward.
// Containers outlive berthd: on start the worker adopts the task containers labelled with this node's ID.
import type { ClusterObjects, ObjectChange, Stored } from '../store/objects';
import type { Task, TaskState } from '../../wire/swarm';
import { errorMessage } from '../../errdefs';
import type { TaskContainerEvent, TaskContainerState, TaskRuntime } from './task-runtime';
import {
  LABEL_NODE_ID, LABEL_TASK_ID, stopGraceSeconds, taskContainer, taskContainerName, taskImage,
} from './task-container';
import { filesOf, networksOf, nodeOf, serviceOf, type NodeFallback } from './task-inputs';
import { reportStatus, stateRank, type StatusReport } from './task-status';

export interface WorkerOptions {
  nodeId: string;
  objects: ClusterObjects;
  runtime: TaskRuntime;
  /** Hostname and platform for templates while the node's own object lacks them. */
  node: NodeFallback;
  /**
   * Fetches an image another node has (over the control endpoint) when no registry has it: called after a failed
   * pull of an absent image. The membership part provides it.
   */
  fetchFromPeer?: (image: string) => Promise<void>;
  /** Tasks prepared (pulled, created) at once. */
  concurrency?: number;
  /** How often every task is looked at again even without an event (a missed exit, a store hiccup). */
  resyncMs?: number;
  log: { info(msg: string): void; error(msg: string): void };
  now?: () => Date;
}

/** A failure that ends the task: rejected before it starts, failed after. */
class TaskFatal extends Error {
  constructor(message: string, readonly container?: TaskContainerState) {
    super(message);
  }
}

const SHUTDOWN = stateRank('shutdown');
const COMPLETE = stateRank('complete');
const REMOVE = stateRank('remove');
const STARTING = stateRank('starting');
/** Bound on the transitions of one pass (a pass normally makes at most a handful). */
const MAX_STEPS = 16;

export class Worker {
  /** The latest version seen of each task assigned here. */
  private readonly tasks = new Map<string, Task>();
  /** The container of each task, by task ID. */
  private readonly containers = new Map<string, string>();
  /** Tasks whose pass is running, and whether another is wanted after it. */
  private readonly passes = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly slots: Semaphore;
  private readonly now: () => Date;
  private watch?: { cancel(): Promise<void> };
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: WorkerOptions) {
    this.slots = new Semaphore(o.concurrency ?? 4);
    this.now = o.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    this.unsubscribe = this.o.runtime.subscribe((e) => this.onContainerEvent(e));
    const revision = await this.resync();
    this.watch = await this.o.objects.watch(['tasks'], revision, (changes) => this.onChanges(changes), () => { void this.resync().catch((e) => this.o.log.error(`agent: re-listing tasks: ${errorMessage(e)}`)); });
    const every = this.o.resyncMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => { void this.resync().catch((e) => this.o.log.error(`agent: resync: ${errorMessage(e)}`)); }, every);
      this.timer.unref();
    }
  }

  /** Stops watching; task containers keep running (they outlive berthd and the agent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.watch?.cancel();
    await this.idle();
  }

  /** Resolves when no pass is running (tests, and stop). */
  async idle(): Promise<void> {
    while (this.passes.size) await Promise.all([...this.passes.values()].map((p) => p.done));
  }

  /**
   * Lists this node's tasks and containers afresh: adopts containers by their labels, passes over every task, and
   * removes containers of tasks that are gone. Returns the revision the tasks were read at.
   */
  async resync(): Promise<number> {
    const containers = await this.o.runtime.listByLabel(LABEL_NODE_ID, this.o.nodeId);
    const { items, revision } = await this.o.objects.list<Task>('tasks');
    const mine = new Map(items.filter((t) => t.NodeID === this.o.nodeId).map((t) => [t.ID, t]));
    for (const c of containers) {
      const taskId = c.labels[LABEL_TASK_ID];
      if (taskId && !this.containers.has(taskId)) this.containers.set(taskId, c.id);
    }
    for (const task of mine.values()) this.remember(task);
    for (const id of [...this.tasks.keys()]) if (!mine.has(id)) this.tasks.delete(id);
    for (const id of new Set([...mine.keys(), ...this.containers.keys()])) this.schedule(id);
    return revision;
  }

  /** Swarm leave: every container of this node's tasks removed, with their files. */
  async removeAll(): Promise<void> {
    for (const c of await this.o.runtime.listByLabel(LABEL_NODE_ID, this.o.nodeId)) {
      await this.o.runtime.remove(c.id).catch((e) => this.o.log.error(`agent: removing ${c.name}: ${errorMessage(e)}`));
      const taskId = c.labels[LABEL_TASK_ID];
      if (taskId) await this.o.runtime.removeTaskFiles(taskId).catch(() => undefined);
    }
    this.containers.clear();
  }

  // ---------- what wakes a task up ----------

  private onChanges(changes: ObjectChange<Stored>[]): void {
    for (const change of changes) {
      const task = change.object as Task | undefined;
      if (task && task.NodeID === this.o.nodeId) {
        if (this.remember(task)) this.schedule(task.ID);
      } else if (this.tasks.has(change.id) || this.containers.has(change.id)) {
        // Deleted (or, never in swarmkit, moved to another node): its container goes.
        this.tasks.delete(change.id);
        this.schedule(change.id);
      }
    }
  }

  private onContainerEvent(e: TaskContainerEvent): void {
    if (e.labels[LABEL_NODE_ID] !== this.o.nodeId) return;
    const taskId = e.labels[LABEL_TASK_ID];
    if (!taskId) return;
    if (e.action === 'destroy') {
      if (this.containers.get(taskId) === e.containerId) this.containers.delete(taskId);
    }
    this.schedule(taskId);
  }

  /** Keeps `task` unless an equal or newer version is known (watch events may trail our own writes). */
  private remember(task: Task): boolean {
    const known = this.tasks.get(task.ID);
    if (known && known.Version.Index >= task.Version.Index) return false;
    this.tasks.set(task.ID, task);
    return true;
  }

  private schedule(taskId: string): void {
    if (this.stopped) return;
    const running = this.passes.get(taskId);
    if (running) {
      running.again = true;
      return;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      do {
        entry.again = false;
        try {
          await this.pass(taskId);
        } catch (e) {
          // A store or engine hiccup: the next event or resync tries again.
          this.o.log.error(`agent: task ${taskId}: ${errorMessage(e)}`);
        }
      } while (entry.again && !this.stopped);
      this.passes.delete(taskId);
    })();
    this.passes.set(taskId, entry);
  }

  // ---------- one pass over a task ----------

  /** Takes the task as far as it can go now; each transition is written before the next is tried. */
  private async pass(taskId: string): Promise<void> {
    for (let i = 0; i < MAX_STEPS && !this.stopped; i++) {
      const task = this.tasks.get(taskId);
      if (!task) return this.removeContainer(taskId);
      let report: StatusReport | undefined;
      try {
        report = await this.step(task);
      } catch (e) {
        report = this.fatal(task, e);
      }
      if (!report) return;
      const stored = await reportStatus(this.o.objects, this.o.nodeId, taskId, report, this.now);
      if (!stored || stored.NodeID !== this.o.nodeId) {
        this.tasks.delete(taskId);
        return this.removeContainer(taskId);
      }
      this.remember(stored);
      if (stored.Status.State === task.Status.State) return; // the write was refused and nothing moved
    }
  }

  /** The next transition of swarmkit's exec.Do, or undefined when the task waits (for an event or its desired state). */
  private async step(task: Task): Promise<StatusReport | undefined> {
    const observed = stateRank(task.Status.State);
    const desired = stateRank(task.DesiredState);
    if (desired >= SHUTDOWN) {
      if (observed >= COMPLETE) {
        if (desired >= REMOVE) await this.removeContainer(task.ID);
        return undefined;
      }
      const container = await this.shutdown(task);
      return { State: 'shutdown', Message: 'shutdown', ...(container ? { ContainerStatus: containerStatus(container) } : {}) };
    }
    if (observed > desired) return undefined;
    switch (task.Status.State) {
      case 'preparing':
        await this.prepare(task);
        return { State: 'ready', Message: 'prepared' };
      case 'starting':
        return this.begin(task);
      case 'running':
        return this.watchRunning(task);
      default:
    }
    if (observed >= desired) return undefined;
    switch (task.Status.State) {
      case 'new': case 'allocated': case 'pending': case 'assigned':
        return { State: 'accepted', Message: 'accepted' };
      case 'accepted':
        return { State: 'preparing', Message: 'preparing' };
      case 'ready':
        return { State: 'starting', Message: 'starting' };
      default:
        return undefined;
    }
  }

  /** An error ends the task: rejected before it started, failed from starting on (Message kept, Err set). */
  private fatal(task: Task, e: unknown): StatusReport {
    const state: TaskState = stateRank(task.Status.State) < STARTING ? 'rejected' : 'failed';
    const container = e instanceof TaskFatal ? e.container : undefined;
    return { State: state, Err: errorMessage(e), ...(container ? { ContainerStatus: containerStatus(container) } : {}) };
  }

  // ---------- the controller's operations (moby's executor/container/controller.go) ----------

  /** Image, networks, secret and config files, container: each done once (a second call finds them). */
  private async prepare(task: Task): Promise<void> {
    if (await this.container(task)) return;
    await this.slots.run(async () => {
      const service = await serviceOf(this.o.objects, task);
      const image = taskImage(task.Spec.ContainerSpec?.Image ?? '');
      await this.ensureImage(image);
      const networks = await networksOf(this.o.objects, task);
      const files = await filesOf(this.o.objects, task);
      const paths = await this.o.runtime.writeTaskFiles(task.ID, files);
      const node = await nodeOf(this.o.objects, this.o.nodeId, this.o.node);
      const { name, body } = taskContainer({
        task, service, node, networks,
        files: files.map((f) => ({ target: f.target, hostPath: paths.get(f.name)! })),
      });
      const existing = await this.o.runtime.inspect(name);
      const id = existing && existing.labels[LABEL_TASK_ID] === task.ID ? existing.id : await this.o.runtime.create(name, body);
      this.containers.set(task.ID, id);
    });
  }

  /**
   * A pull failure is ignored when the image is here (swarmkit's rule); an image no registry has may be on another
   * node of the cluster, fetched from there.
   */
  private async ensureImage(image: string): Promise<void> {
    if (await this.o.runtime.hasImage(image)) return;
    try {
      await this.o.runtime.pullImage(image);
      return;
    } catch (pullError) {
      if (await this.o.runtime.hasImage(image)) return;
      if (this.o.fetchFromPeer) {
        try {
          await this.o.fetchFromPeer(image);
        } catch (e) {
          this.o.log.info(`agent: ${image} from another node: ${errorMessage(e)}`);
        }
        if (await this.o.runtime.hasImage(image)) return;
      }
      throw pullError;
    }
  }

  /** Starts the container (once) and reports running when it is, and healthy if it has a healthcheck. */
  private async begin(task: Task): Promise<StatusReport | undefined> {
    let c = await this.requireContainer(task);
    if (!c.started && c.status === 'created') {
      try {
        await this.o.runtime.start(c.id);
      } catch (e) {
        throw new TaskFatal(errorMessage(e), await this.o.runtime.inspect(c.id));
      }
      c = await this.requireContainer(task);
    }
    if (c.status === 'running' && c.health === 'starting') return undefined; // the health event wakes us
    if (c.status === 'running' && c.health === 'unhealthy') throw new TaskFatal('dockerexec: unhealthy container', c);
    return { State: 'running', Message: 'started', ContainerStatus: containerStatus(c), Ports: portStatus(c) };
  }

  /** A running task ends when its container exits (or turns unhealthy); until then it waits for an event. */
  private async watchRunning(task: Task): Promise<StatusReport | undefined> {
    const c = await this.requireContainer(task);
    if (c.status === 'running' || c.status === 'paused' || c.status === 'restarting') {
      if (c.health === 'unhealthy') throw new TaskFatal('dockerexec: unhealthy container', c);
      return undefined;
    }
    if (c.exitCode === 0 && !c.error) return { State: 'complete', Message: 'finished', ContainerStatus: containerStatus(c) };
    throw new TaskFatal(`task: non-zero exit (${c.exitCode})`, c);
  }

  /** Stops the container within the task's StopGracePeriod; resolves to its state afterwards. */
  private async shutdown(task: Task): Promise<TaskContainerState | undefined> {
    const c = await this.container(task);
    if (!c) return undefined;
    if (c.status === 'running' || c.status === 'paused' || c.status === 'restarting') {
      await this.o.runtime.stop(c.id, stopGraceSeconds(task.Spec.ContainerSpec));
      return this.o.runtime.inspect(c.id);
    }
    return c;
  }

  private async removeContainer(taskId: string): Promise<void> {
    const id = this.containers.get(taskId);
    if (id) {
      await this.o.runtime.remove(id);
      this.containers.delete(taskId);
    }
    await this.o.runtime.removeTaskFiles(taskId);
  }

  /** The task's container: the one known, else one found by its name (made before a berthd restart). */
  private async container(task: Task): Promise<TaskContainerState | undefined> {
    const known = this.containers.get(task.ID);
    if (known) {
      const c = await this.o.runtime.inspect(known);
      if (c) return c;
      this.containers.delete(task.ID);
    }
    const service = await serviceOf(this.o.objects, task).catch(() => undefined);
    if (!service) return undefined;
    const c = await this.o.runtime.inspect(taskContainerName(task, service.Name));
    if (c && c.labels[LABEL_TASK_ID] === task.ID) {
      this.containers.set(task.ID, c.id);
      return c;
    }
    return undefined;
  }

  private async requireContainer(task: Task): Promise<TaskContainerState> {
    const c = await this.container(task);
    if (!c) throw new TaskFatal(`No such container for task ${task.ID}`);
    return c;
  }
}

function containerStatus(c: TaskContainerState): { ContainerID: string; PID: number; ExitCode: number } {
  return { ContainerID: c.id, PID: c.pid, ExitCode: c.exitCode };
}

/** The host-mode ports the container got, as PortStatus (PublishedPort as bound, also when it was chosen). */
function portStatus(c: TaskContainerState): StatusReport['Ports'] {
  if (!c.ports.length) return undefined;
  return c.ports.map((p) => ({ Protocol: p.proto, TargetPort: p.containerPort, PublishedPort: p.hostPort, PublishMode: 'host' as const }));
}

/** At most `limit` at once (pulls and creates); the rest wait their turn in order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
