// An in-memory Mounter for unit tests (the real one is LinuxMounter in src/host/mount.ts).
import * as path from 'node:path';
import { NotFoundError } from '../../src/errdefs';
import { MountInfo, Mounter, UmountOptions, isMountPointIn, planOverlayMount } from '../../src/host/mount';

/** An in-memory mounter for unit tests: keeps a mount table and records every call. */
export class FakeMounter implements Mounter {
  readonly calls: string[] = [];
  private table: MountInfo[] = [];
  private nextId = 1000;

  constructor(initial: MountInfo[] = []) {
    this.table = [...initial];
  }

  async mount(type: string, source: string, target: string, options: string[] = []): Promise<void> {
    this.calls.push(`mount -t ${type} -o ${options.join(',')} ${source} ${target}`);
    this.add(type, source, target, options);
  }

  private add(type: string, source: string, target: string, superOptions: string[]): void {
    this.table.push({
      id: this.nextId++,
      parentId: 1,
      device: '0:0',
      root: '/',
      mountPoint: path.resolve(target),
      mountOptions: ['rw'],
      fsType: type,
      source,
      superOptions: ['rw', ...superOptions],
    });
  }

  async umount(target: string, opts: UmountOptions = {}): Promise<void> {
    this.calls.push(`umount${opts.lazy ? ' -l' : ''} ${target}`);
    const want = path.resolve(target);
    const i = this.table.map((m) => m.mountPoint).lastIndexOf(want);
    if (i < 0) throw new NotFoundError(`${target} is not mounted`);
    this.table.splice(i, 1);
  }

  async isMountPoint(target: string): Promise<boolean> {
    return isMountPointIn(this.table, target);
  }

  /** The fake's mounts are all of their own filesystem (Berth never bind-mounts where it asks this). */
  async hasOwnFilesystem(target: string): Promise<boolean> {
    return isMountPointIn(this.table, target);
  }

  async mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void> {
    // The real mounter's link directory has a random suffix; the fake's is fixed, so tests can name it.
    const plan = planOverlayMount(lowerDirs, upperDir, workDir, path.join(path.dirname(upperDir), '.lower-fake'));
    this.calls.push(`mount -t overlay -o ${plan.options} overlay ${target} (cwd ${plan.cwd})`);
    this.add('overlay', 'overlay', target, plan.options.split(','));
  }

  async mounts(): Promise<MountInfo[]> {
    return [...this.table];
  }
}
