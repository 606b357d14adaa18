// A container's root for the operations that read or write it (`docker cp`, export, exec's user lookup): a running
// container's through its own mount namespace (/proc/<pid>/root, held open), as the host no longer has it mounted
// once the container runs (rootfs-premount.ts); a stopped one's mounted on the host for the time of the operation.
import { ConflictError } from '../errdefs';
import type { ContainerRecord } from './container-record';
import type { RootfsPremounts } from './rootfs-premount';

/** A running container's root held open (host/process-root.ts in production). */
export interface LiveRoot {
  path: string;
  /** The device of the root's own filesystem. */
  dev: number;
  close(): Promise<void>;
}

export interface RootfsPaths {
  mergedDir(c: ContainerRecord): string;
  /** Whether the container has a process whose root can be read (running or paused). */
  running(c: ContainerRecord): boolean;
  /** Opens the running container's root; undefined when its process is gone. */
  openLive(c: ContainerRecord): Promise<LiveRoot | undefined>;
}

/** The root an operation works in, until it calls release. */
export interface RootfsView {
  /** The root as a host path: the container's own view while it runs, the host's mount of it when stopped. */
  root: string;
  /**
   * Running only: the device of the root's own filesystem. What is on another one (/proc, /sys, /dev, tmpfs,
   * volumes and binds) is mounted in the container's namespace; walks stay off it unless they map the mount.
   */
  liveDev?: number;
  /** Aborted when the running container stops during the operation (then release soon: its next start waits). */
  signal: AbortSignal;
  release(): Promise<void>;
}

/** How long a start (or a mount for a stopped container's operation) waits for the last run's readers to let go. */
const LIVE_DRAIN_MS = 30_000;

export class RootfsUsers {
  /** Per running container, the operations holding its live root, each with its abort. */
  private readonly live = new Map<string, Map<object, AbortController>>();
  /** Per container, how many times it was seen to stop: a live root opened across a stop is let go at once. */
  private readonly stops = new Map<string, number>();
  /** Per container, the waiters for its live roots to be let go. */
  private readonly drained = new Map<string, (() => void)[]>();

  constructor(private readonly premounts: Pick<RootfsPremounts, 'hold'>, private readonly paths: RootfsPaths) {}

  /** The container's root for one operation; release it when done (twice is harmless). */
  async acquire(c: ContainerRecord): Promise<RootfsView> {
    if (!this.paths.running(c)) {
      const release = await this.premounts.hold(c);
      return { root: this.paths.mergedDir(c), signal: new AbortController().signal, release };
    }
    const stopsBefore = this.stops.get(c.id) ?? 0;
    const live = await this.paths.openLive(c);
    if (!live) throw new ConflictError(`container ${c.id} is not running`);
    if ((this.stops.get(c.id) ?? 0) !== stopsBefore || !this.paths.running(c)) {
      await live.close();
      throw new ConflictError(`container ${c.id} stopped during the operation`);
    }
    const key = {};
    const abort = new AbortController();
    const users = this.live.get(c.id) ?? new Map<object, AbortController>();
    users.set(key, abort);
    this.live.set(c.id, users);
    return {
      root: live.path, liveDev: live.dev, signal: abort.signal,
      release: async () => {
        if (!users.delete(key)) return;
        await live.close();
        if (users.size === 0 && this.live.get(c.id) === users) {
          this.live.delete(c.id);
          const waiters = this.drained.get(c.id) ?? [];
          this.drained.delete(c.id);
          for (const wake of waiters) wake();
        }
      },
    };
  }

  /** The container's process ended: operations still reading its root through it are aborted. */
  stopped(c: ContainerRecord): void {
    this.stops.set(c.id, (this.stops.get(c.id) ?? 0) + 1);
    for (const abort of this.live.get(c.id)?.values() ?? []) abort.abort(new ConflictError(`container ${c.id} stopped during the operation`));
  }

  /** Forgets a removed container. */
  forget(id: string): void {
    this.stops.delete(id);
  }

  /**
   * Settles once no operation holds the container's live root (which keeps its last run's overlay alive): before
   * its root is mounted again on the host. Throws after LIVE_DRAIN_MS rather than mount a second overlay on it.
   */
  async liveViewsGone(c: ContainerRecord): Promise<void> {
    if (!this.live.has(c.id)) return;
    let timer: NodeJS.Timeout | undefined;
    const wake = new Promise<boolean>((resolve) => {
      const waiters = this.drained.get(c.id) ?? [];
      waiters.push(() => resolve(true));
      this.drained.set(c.id, waiters);
      timer = setTimeout(() => resolve(false), LIVE_DRAIN_MS);
    });
    const gone = await wake;
    clearTimeout(timer);
    if (!gone && this.live.has(c.id)) {
      throw new ConflictError(`container ${c.id}: an operation on its last run still holds its root filesystem; try again`);
    }
  }
}
