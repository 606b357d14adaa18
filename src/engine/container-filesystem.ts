// A container's filesystem as others take it: committed as an image (docker commit), its changes against its image
// (docker diff), a tar of it (docker export), the size of its writable layer (SizeRw).
import type { Readable } from 'node:stream';
import { ConflictError, InvalidParameterError } from '../errdefs';
import { dirSize } from '../util/dir-size';
import type { ContainerConfig } from '../wire/docker';
import type { ContainerRuntime, ImageLookup } from './container-ports';
import type { ContainerRecord } from './container-record';
import type { RootfsUsers } from './rootfs-users';

export interface CommitOptions {
  repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: ContainerConfig;
}

export interface ContainerFilesystemOptions {
  images: ImageLookup;
  runtime: ContainerRuntime;
  upperDir(c: ContainerRecord): string;
  /** A running container's root through its own namespace; a stopped one's mounted while it is read. */
  rootfsUsers: RootfsUsers;
  emit(c: ContainerRecord, action: string, extra?: Record<string, string>): void;
}

export class ContainerFilesystem {
  constructor(private readonly o: ContainerFilesystemOptions) {}

  async commit(c: ContainerRecord, o: CommitOptions): Promise<string> {
    if (o.config !== undefined && (o.config === null || typeof o.config !== 'object' || Array.isArray(o.config))) {
      throw new InvalidParameterError('invalid JSON: the commit body must be a container config object');
    }
    // Without its image the container's lower layers have no image to name as the new image's parent.
    const parent = await this.o.images.resolve(c.imageId).catch(() => {
      throw new ConflictError(`cannot commit container ${c.id}: its image ${c.imageId} has been removed`);
    });
    // Only a running container is paused; one that exits between the check and the pause (its exit not yet
    // recorded) is committed as it is, as dockerd does, which ignores the pause's failure.
    const pause = o.pause !== false && c.state.status === 'running'
      && await this.o.runtime.pause(c.runtime, c.id).then(() => true, () => false);
    try {
      const containerConfig = { ...c.config, ...(o.config ?? {}) };
      const id = await this.o.images.commit({
        upperDir: this.o.upperDir(c), parent, containerId: c.id, containerConfig,
        repo: o.repo, tag: o.tag, comment: o.comment, author: o.author, changes: o.changes,
      });
      this.o.emit(c, 'commit', { comment: o.comment ?? '', imageID: id, imageRef: o.repo ? `${o.repo}:${o.tag || 'latest'}` : '' });
      return id;
    } finally {
      if (pause) await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
    }
  }

  async changes(c: ContainerRecord): Promise<{ Path: string; Kind: number }[]> {
    const image = await this.o.images.resolve(c.imageId).catch(() => null);
    if (!image) return [];
    return this.o.images.changes(this.o.upperDir(c), image);
  }

  /**
   * A tar of the container's root filesystem, as dockerd exports its graph driver's mount: the image's layers and
   * the container's changes, without its volumes, binds or what the runtime mounted (/proc, /sys, /dev). A stopped
   * container's root is mounted for the time of the export; a running one's is read through its own mount
   * namespace, kept to the root's filesystem: each mount point there is an empty directory (or an empty file).
   */
  async export(c: ContainerRecord): Promise<Readable> {
    const view = await this.o.rootfsUsers.acquire(c);
    const tar = this.o.images.exportRootfs(view.root, view.liveDev);
    view.signal.addEventListener('abort', () => tar.destroy(view.signal.reason as Error), { once: true });
    for (const ev of ['close', 'end', 'error'] as const) tar.once(ev, () => void view.release());
    this.o.emit(c, 'export');
    return tar;
  }

  async sizeRw(c: ContainerRecord): Promise<number> {
    return dirSize(this.o.upperDir(c));
  }
}
