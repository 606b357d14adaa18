// A container's root filesystem on the host: mounted (a new container's right after create's answer, so the mount(8)
// process runs while the client does its own work between create and start — the docker CLI attaches and asks to
// wait first), and let go of with the runtime's record once the container stopped. Docker mounts at start; a created
// container holding its mount costs no disk, and removal unmounts it as before.
import { errorMessage } from '../errdefs';
import type { ContainerRecord } from './container-record';
import type { ContainerRuntime, RootfsMounter } from './container-ports';

export interface RootfsHost {
  mounter: RootfsMounter;
  runtime: Pick<ContainerRuntime, 'delete'>;
  log: { error(msg: string): void };
  mergedDir(c: ContainerRecord): string;
  upperDir(c: ContainerRecord): string;
  workDir(c: ContainerRecord): string;
}

export class RootfsPremounts {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly o: RootfsHost) {}

  /** Mounts the container's root unless it has its own filesystem there already. */
  async mount(c: ContainerRecord): Promise<void> {
    const merged = this.o.mergedDir(c);
    if (!(await this.o.mounter.hasOwnFilesystem(merged))) await this.o.mounter.mountOverlay(c.lowerDirs, this.o.upperDir(c), this.o.workDir(c), merged);
  }

  /** Starts mounting `c`'s root in the background; a failure is start's to meet and report. */
  begin(c: ContainerRecord): void {
    const p: Promise<void> = this.mount(c).catch(() => undefined).finally(() => {
      if (this.pending.get(c.id) === p) this.pending.delete(c.id);
    });
    this.pending.set(c.id, p);
  }

  /** Settles once no mount begun here for the container is under way: whoever mounts or unmounts it waits first. */
  settled(id: string): Promise<void> {
    return this.pending.get(id) ?? Promise.resolve();
  }

  /** Lets go of what a stopped container holds on the host: the runtime's record of it and its root's mount. */
  async release(c: ContainerRecord): Promise<void> {
    await this.settled(c.id);
    const merged = this.o.mergedDir(c);
    await Promise.all([
      this.o.runtime.delete(c.runtime, c.id).catch((e) => this.o.log.error(`runtime delete ${c.id}: ${errorMessage(e)}`)),
      this.o.mounter.hasOwnFilesystem(merged).then((mounted) => mounted ? this.o.mounter.umount(merged) : undefined)
        .catch((e) => this.o.log.error(`umount ${c.id}: ${errorMessage(e)}`)),
    ]);
  }
}
