// A build step's scratch filesystem: an image's layers as an overlay with a fresh upper directory (the step's
// layer once it is done), or the image's root read-only (COPY --from). Always unmounted and removed at close().
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NotFoundError } from '../errdefs';

/** The mounts a step's scratch filesystem needs (host/mount.ts's Mounter in production). */
export interface WorkspaceMounter {
  mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void>;
  umount(target: string): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
}

export interface LayerSource {
  /** The image's layer directories, top-most first (empty for scratch). */
  lowerDirs: string[];
}

export class Workspace {
  private constructor(
    private readonly dir: string,
    /** Where the step reads and writes: the overlay's merged view (or the upper dir when there are no layers). */
    readonly root: string,
    /** The step's changes, for the layer. */
    readonly upperDir: string,
    private readonly mounter: WorkspaceMounter,
    /** Whether the overlay is (still) mounted: known here, so no mount table is read to find out. */
    private mounted: boolean,
  ) {}

  /**
   * An overlay of `lowerDirs` with an empty upper directory below `tmpDir`. With `empty` the step starts from
   * nothing (COPY --link): its root is the upper directory itself.
   */
  static async open(tmpDir: string, mounter: WorkspaceMounter, lowerDirs: string[], empty = false): Promise<Workspace> {
    const dir = path.join(tmpDir, `layer-${randomBytes(8).toString('hex')}`);
    const upper = path.join(dir, 'upper');
    await fsp.mkdir(upper, { recursive: true, mode: 0o755 });
    await fsp.chmod(upper, 0o755);
    if (empty || lowerDirs.length === 0) return new Workspace(dir, upper, upper, mounter, false);
    const work = path.join(dir, 'work');
    const merged = path.join(dir, 'merged');
    await fsp.mkdir(work);
    await fsp.mkdir(merged);
    try {
      await mounter.mountOverlay(lowerDirs, upper, work, merged);
    } catch (err) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw err;
    }
    return new Workspace(dir, merged, upper, mounter, true);
  }

  /** Unmounts the overlay; the upper directory stays readable until close(). */
  async unmount(): Promise<void> {
    if (!this.mounted) return;
    try {
      await this.mounter.umount(this.root);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err; // someone unmounted it already
    }
    this.mounted = false;
  }

  async close(): Promise<void> {
    try {
      await this.unmount();
    } catch {
      return; // removing the directory through a live overlay would reach into the image's layers: leave it
    }
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
