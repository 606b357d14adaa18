// The leader's manager: runs the loops over the cluster objects while this node leads (node health,
// orchestrators, restart supervisor, rolling updater, scheduler, task reaper), one pass at a time, each pass
// on a fresh read of the store. Passes are driven by watches on the objects and the heartbeat keys plus
// timers for delays; every decision is re-derived from the store, so a new leader picks up where the last
// one stopped, and every write is a compare-and-swap that a concurrent change makes it re-decide.
import type { ClusterObjects } from '../store/objects';
import type { TaskNetworks } from '../overlay/task-attachments';
import { systemClock, type Clock, type Timer } from './clock';
import { HEARTBEAT_PREFIX } from './heartbeat-keys';
import { DEFAULT_HEARTBEAT_GRACE_MS, NodeHealth } from './node-health';
import { Orchestrator } from './orchestrator';
import { runReaper } from './reaper';
import { RestartSupervisor } from './restart';
import { runScheduler } from './scheduler';
import { RollingUpdater } from './updater';
import { ClusterView } from './view';
import { ManagerWrites } from './writes';

export interface ManagerOptions {
  clock?: Clock;
  /** How long a node's heartbeat key may be missing before the node is down (its lease TTL already passed). */
  heartbeatGraceMs?: number;
  /** A full re-read now and then, whatever the watches say. */
  resyncMs?: number;
  log?: (message: string) => void;
  /** Overlay addresses of the tasks the loops create and delete (overlay/task-attachments.ts). */
  taskNetworks?: TaskNetworks;
}

const MAX_PASSES_IN_A_ROW = 20;

export class ClusterManager {
  private readonly clock: Clock;
  private readonly health: NodeHealth;
  private readonly orchestrator = new Orchestrator();
  private readonly restarts = new RestartSupervisor();
  private readonly updater = new RollingUpdater(this.restarts.delayed);
  private unplaced = new Map<string, string>();
  private running = false;
  private again = false;
  private current: Promise<void> | undefined;
  private wakeTimer: { at: number; timer: Timer } | undefined;
  private resyncTimer: Timer | undefined;
  private cancels: (() => Promise<void>)[] = [];
  private started = false;

  constructor(private readonly objects: ClusterObjects, private readonly options: ManagerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.health = new NodeHealth(options.heartbeatGraceMs ?? DEFAULT_HEARTBEAT_GRACE_MS);
  }

  /** Starts the loops (this node became leader). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.orchestrator.reset();
    const { revision } = await this.objects.list('cluster');
    const objects = await this.objects.watch(['nodes', 'services', 'tasks', 'cluster'], revision, () => this.kick(), () => this.kick());
    const beats = await this.objects.store.watch(HEARTBEAT_PREFIX, revision, () => this.kick(), () => this.kick());
    this.cancels = [() => objects.cancel(), () => beats.cancel()];
    this.scheduleResync();
    this.kick();
  }

  /** Stops the loops (leadership lost or the node leaves); waits for a pass in progress. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const cancels = this.cancels;
    this.cancels = [];
    await Promise.all(cancels.map((c) => c().catch(() => undefined)));
    this.wakeTimer?.timer.cancel();
    this.wakeTimer = undefined;
    this.resyncTimer?.cancel();
    this.resyncTimer = undefined;
    await this.current;
  }

  /** Asks for a pass soon; passes never overlap, and one asked for during a pass runs after it. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.current = this.loop();
  }

  /** Runs passes until one changes nothing (for tests and for the first pass of a term). */
  async settle(): Promise<void> {
    await this.current;
    for (let i = 0; i < MAX_PASSES_IN_A_ROW; i++) {
      if ((await this.pass()) === 0) return;
    }
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      for (let i = 0; i < MAX_PASSES_IN_A_ROW; i++) {
        this.again = false;
        const writes = await this.pass().catch((err: unknown) => {
          this.options.log?.(`cluster manager pass failed: ${(err as Error).message}`);
          if (this.started) this.wake(this.clock.now() + 1_000);
          return 0;
        });
        if (!this.started || (writes === 0 && !this.again)) break;
      }
    } finally {
      this.running = false;
      // Still busy after the cap (a large change): carry on after letting other work in.
      if (this.again && this.started) setImmediate(() => this.kick());
    }
  }

  /** One pass of every loop over a fresh read; returns how many writes it made. */
  async pass(): Promise<number> {
    const now = this.clock.now();
    const writes = new ManagerWrites(this.objects, () => this.clock.now(), this.options.taskNetworks);
    const wake = (at: number) => this.wake(at);
    let view = await ClusterView.load(this.objects);
    let seen = 0;
    const fresh = async () => {
      if (writes.writes !== seen) {
        seen = writes.writes;
        view = await ClusterView.load(this.objects);
      }
      return view;
    };
    const alive = await this.health.alive(this.objects.store);
    await this.health.run(view, alive, writes, now, wake);
    await this.orchestrator.run(await fresh(), writes, now);
    await this.restarts.run(await fresh(), writes, now, wake);
    await this.updater.run(await fresh(), writes, now, this.unplaced, wake);
    this.unplaced = await runScheduler(await fresh(), writes, now);
    await runReaper(await fresh(), writes);
    return writes.writes;
  }

  private wake(at: number): void {
    if (!this.started) return;
    if (this.wakeTimer && this.wakeTimer.at <= at) return;
    this.wakeTimer?.timer.cancel();
    const timer = this.clock.setTimer(at - this.clock.now(), () => {
      this.wakeTimer = undefined;
      this.kick();
    });
    this.wakeTimer = { at, timer };
  }

  private scheduleResync(): void {
    const every = this.options.resyncMs ?? 30_000;
    this.resyncTimer = this.clock.setTimer(every, () => {
      if (!this.started) return;
      this.kick();
      this.scheduleResync();
    });
  }
}
