// A container's root filesystem mounted on the host (<container dir>/merged): there while the container is created
// (mounted right after create's answer, so the mount(8) process runs while the client does its own work between
// create and start — the docker CLI attaches and asks to wait first) and while an operation on a stopped container
// (`docker cp`, export) holds it; unmounted once the runtime's create has returned (the container's mount namespace
// has its own copy of the mount, the same filesystem, and every mount left in the host's table costs each later
// container start: decision 21), once the container stopped, and at removal. Every mount and unmount of one
// container takes its turn, so none overlaps another. Docker mounts at start; a created container holding its mount
// costs no disk.
import { NotFoundError, errorMessage } from '../errdefs';
import { KeyedMutex } from '../util/mutex';
import type { ContainerRecord } from './container-record';
import type { ContainerRuntime, RootfsMounter } from './container-ports';

export interface RootfsHost {
  mounter: RootfsMounter;
  runtime: Pick<ContainerRuntime, 'delete'>;
  log: { error(msg: string): void };
  mergedDir(c: ContainerRecord): string;
  upperDir(c: ContainerRecord): string;
  workDir(c: ContainerRecord): string;
  /**
   * Settles once nothing reads the container's last run through its own mount namespace (rootfs-users.ts): a
   * second overlay on the same upper directory while the first is alive is undefined behaviour in overlayfs.
   */
  liveViewsGone(c: ContainerRecord): Promise<void>;
}

export class RootfsPremounts {
  /** Per container, its mounts and unmounts one at a time, in the order asked. */
  private readonly turns = new KeyedMutex();
  /** Containers whose host mount operations are using, with their count. */
  private readonly holders = new Map<string, number>();

  constructor(private readonly o: RootfsHost) {}

  /** Mounts the container's root for its start, unless the host has it mounted already. */
  mount(c: ContainerRecord): Promise<void> {
    return this.turns.run(c.id, () => this.mountNow(c));
  }

  /** Starts mounting `c`'s root in the background (at create); a failure is start's to meet and report. */
  begin(c: ContainerRecord): void {
    this.mount(c).catch(() => undefined);
  }

  /**
   * Mounts the root for an operation on a container that is not running, and counts it; the returned release lets
   * go of it, and the last one out unmounts it unless the container is (still) only created.
   */
  hold(c: ContainerRecord): Promise<() => Promise<void>> {
    return this.turns.run(c.id, async () => {
      await this.mountNow(c);
      this.holders.set(c.id, (this.holders.get(c.id) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return Promise.resolve();
        released = true;
        return this.turns.run(c.id, async () => {
          const n = (this.holders.get(c.id) ?? 1) - 1;
          if (n > 0) { this.holders.set(c.id, n); return; }
          this.holders.delete(c.id);
          if (c.state.status !== 'created') await this.unmountNow(c);
        });
      };
    });
  }

  /**
   * Unmounts the host's copy of the root unless an operation holds it (its release unmounts it then): a moment into
   * a container's run (it keeps its own copy: ContainerService.releaseHostMounts), after a failed start, and for
   * running containers found at berthd's start (mounted by a build that kept them).
   */
  unmountUnlessHeld(c: ContainerRecord): Promise<void> {
    return this.turns.run(c.id, async () => { if (!this.holders.has(c.id)) await this.unmountNow(c); });
  }

  /** Lets go of what a stopped container holds on the host: the runtime's record of it and its root's mount. */
  async release(c: ContainerRecord, removing = false): Promise<void> {
    await Promise.all([
      this.o.runtime.delete(c.runtime, c.id).catch((e) => this.o.log.error(`runtime delete ${c.id}: ${errorMessage(e)}`)),
      this.turns.run(c.id, async () => { if (removing || !this.holders.has(c.id)) await this.unmountNow(c); })
        .catch((e) => this.o.log.error(`umount ${c.id}: ${errorMessage(e)}`)),
    ]);
  }

  private async mountNow(c: ContainerRecord): Promise<void> {
    const merged = this.o.mergedDir(c);
    if (await this.o.mounter.hasOwnFilesystem(merged)) return;
    await this.o.liveViewsGone(c);
    await this.o.mounter.mountOverlay(c.lowerDirs, this.o.upperDir(c), this.o.workDir(c), merged);
  }

  private async unmountNow(c: ContainerRecord): Promise<void> {
    const merged = this.o.mergedDir(c);
    if (!(await this.o.mounter.hasOwnFilesystem(merged))) return;
    await this.o.mounter.umount(merged).catch((e) => { if (!(e instanceof NotFoundError)) throw e; });
  }
}
