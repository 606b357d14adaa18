// A stopped container's root filesystem mounted for the operations that read or write it (`docker cp`, export),
// counted so the last one out unmounts it, and never unmounted under a running container.
import type { ContainerRecord } from './container-record';
import type { RootfsMounter } from './container-ports';

/** Where a container's overlay lives, and whether it runs (a running container's root is its own). */
export interface RootfsPaths {
  mergedDir(c: ContainerRecord): string;
  upperDir(c: ContainerRecord): string;
  workDir(c: ContainerRecord): string;
  running(c: ContainerRecord): boolean;
  /** Settles once no mount begun elsewhere (at create, rootfs-premount.ts) is under way for the container. */
  mountSettled(c: ContainerRecord): Promise<void>;
}

export class RootfsUsers {
  /** Containers whose root was mounted here, with the number of operations using it. */
  private readonly users = new Map<string, number>();
  /** Per container, the last mount or unmount started here. */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(private readonly mounter: RootfsMounter, private readonly paths: RootfsPaths) {}

  /**
   * Makes sure the container's root is mounted; the returned release unmounts what was mounted here, last user out.
   * Mounts and unmounts take turns per container: an operation that starts while the last one's unmount is under
   * way waits for it and mounts again, instead of taking the root for mounted and losing it mid-read.
   */
  acquire(c: ContainerRecord): Promise<() => Promise<void>> {
    const merged = this.paths.mergedDir(c);
    return this.inTurn(c.id, async () => {
      await this.paths.mountSettled(c);
      const users = this.users.get(c.id);
      if (users !== undefined) {
        this.users.set(c.id, users + 1);
      } else if (!(await this.mounter.isMountPoint(merged))) {
        await this.mounter.mountOverlay(c.lowerDirs, this.paths.upperDir(c), this.paths.workDir(c), merged);
        this.users.set(c.id, 1);
      } else {
        return async () => undefined;
      }
      let released = false;
      return () => {
        if (released) return Promise.resolve();
        released = true;
        return this.inTurn(c.id, async () => {
          const n = (this.users.get(c.id) ?? 1) - 1;
          if (n > 0) { this.users.set(c.id, n); return; }
          this.users.delete(c.id);
          if (!this.paths.running(c)) await this.mounter.umount(merged).catch(() => undefined);
        });
      };
    });
  }

  /** Runs `fn` after every earlier mount change of container `id` has finished. */
  private inTurn<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const result = (this.turns.get(id) ?? Promise.resolve()).then(fn);
    const settled = result.then(() => undefined, () => undefined);
    this.turns.set(id, settled);
    void settled.then(() => { if (this.turns.get(id) === settled) this.turns.delete(id); });
    return result;
  }
}
