// `docker cp`: stat, read and write paths inside a container's root filesystem (running or stopped) as tar streams.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import type { RootfsView } from './rootfs-users';
import { InvalidParameterError, NotFoundError } from '../errdefs';
import { sourceMounts } from './container-mounts';
import { resolveInContainer } from '../host/rootfs';
import type { SpecialFiles } from '../host/special-files';
import { tarPathAs } from '../image/diff';
import { unpack } from '../image/unpack';
import { copyUp } from '../volume/copy-up';

/** Docker's container.PathStat, sent base64-encoded JSON in X-Docker-Container-Path-Stat. */
export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

// Go's os.FileMode type bits: the docker CLI reads them (IsDir, symlink) from the stat header.
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

export function goFileMode(st: fs.Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_MODE_DIR;
  if (st.isSymbolicLink()) m += GO_MODE_SYMLINK;
  if (st.isBlockDevice()) m += GO_MODE_DEVICE;
  if (st.isCharacterDevice()) m += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
  if (st.isFIFO()) m += GO_MODE_NAMED_PIPE;
  if (st.isSocket()) m += GO_MODE_SOCKET;
  if (st.mode & 0o4000) m += GO_MODE_SETUID;
  if (st.mode & 0o2000) m += GO_MODE_SETGID;
  if (st.mode & 0o1000) m += GO_MODE_STICKY;
  return m;
}

export class ContainerArchive {
  constructor(private readonly containers: ContainerService, private readonly special: SpecialFiles) {}

  /** HEAD /containers/{id}/archive. */
  async stat(ref: string, p: string): Promise<PathStat> {
    const c = this.containers.get(ref);
    return this.containers.unlessRemoved(c, 'stat a path in', () => this.withRoot(c, async (view) => this.statIn(view, ref, p, await this.viewMounts(c, view))));
  }

  /** GET /containers/{id}/archive: the stat, and a tar of the path named after its last component. */
  async get(ref: string, p: string): Promise<{ stat: PathStat; tar: Readable }> {
    const c = this.containers.get(ref);
    return this.containers.unlessRemoved(c, 'copy from', () => this.getFrom(c, ref, p));
  }

  private async getFrom(c: ContainerRecord, ref: string, p: string): Promise<{ stat: PathStat; tar: Readable }> {
    const view = await this.containers.rootfsUsers.acquire(c);
    try {
      const mounts = await this.viewMounts(c, view);
      const stat = await this.statIn(view, ref, p, mounts);
      const { resolved, base, containerPath } = await resolvePath(view.root, p, mounts);
      // A directory's tree shows the mounts inside it, as `docker cp` out of dockerd does; not what the runtime
      // mounted in a running container (/proc, /sys, /dev), which the root filesystem has as empty directories.
      const sources = new Map(mounts.map((m) => [m.destination, m.source]));
      const tar = tarPathAs(asEntry(view, resolved), base, {
        mounted: (rel) => sources.get(path.posix.join(containerPath, rel)),
        ...(view.liveDev !== undefined && !mapped(mounts, containerPath) ? { dev: view.liveDev } : {}),
      });
      view.signal.addEventListener('abort', () => tar.destroy(view.signal.reason as Error), { once: true });
      // The release counts once however many of these come (rootfs-users.ts).
      for (const ev of ['close', 'end', 'error'] as const) tar.once(ev, () => void view.release());
      this.containers.emit(c, 'archive-path');
      return { stat, tar };
    } catch (err) {
      await view.release();
      throw err;
    }
  }

  /** PUT /containers/{id}/archive: extracts a tar into the existing directory `p`. */
  async put(ref: string, p: string, body: Readable, o: { noOverwriteDirNonDir?: boolean } = {}): Promise<void> {
    const c = this.containers.get(ref);
    await this.containers.unlessRemoved(c, 'copy to', () => this.putInto(c, ref, p, body, o));
    this.containers.emit(c, 'extract-to-dir');
  }

  private async putInto(c: ContainerRecord, ref: string, p: string, body: Readable, o: { noOverwriteDirNonDir?: boolean }): Promise<void> {
    await this.withRoot(c, async (view) => {
      // A container stopping under the copy ends it: the body stops, and what was staged is removed.
      view.signal.addEventListener('abort', () => body.destroy(view.signal.reason as Error), { once: true });
      const mounts = await this.viewMounts(c, view);
      // Paths inside a volume or bind land there, as in Docker; only the rootfs itself can be read-only.
      const where = await resolveInContainer(view.root, mounts, p);
      const dest = where.hostPath;
      const into = mountHolding(c.mounts ?? [], where.containerPath);
      if (into && !into.rw) throw new InvalidParameterError('mounted volume is marked read-only');
      if (!into && c.hostConfig.ReadonlyRootfs) throw new InvalidParameterError('container rootfs is marked read-only');
      const st = await fsp.stat(dest).catch(() => undefined);
      const own = view.liveDev !== undefined && !mapped(mounts, where.containerPath);
      if (!st || (own && await underRuntimeMount(view, dest))) throw new NotFoundError(`Could not find the file ${p} in container ${ref}`);
      if (own && st.dev !== view.liveDev) {
        throw new InvalidParameterError(`cannot copy into ${p}: the runtime mounted another filesystem there in the running container`);
      }
      if (!st.isDirectory()) throw new InvalidParameterError('extraction point is not a directory');
      // The unpacker writes only into a directory it owns: a staging directory on the same filesystem, whose
      // entries are then moved into place without following any link the container has in the destination.
      const staging = await fsp.mkdtemp(path.join(dest, '.berth-cp-'));
      try {
        if (await fsp.realpath(staging).then((r) => r === staging, () => false)) {
          await unpack(body, staging, { special: this.special, mode: 'layer' });
        } else {
          // A live tmpfs, reached through the container's mount namespace: the unpacker checks real paths, so it
          // writes in the container's directory on the host, and the tree is copied in from there.
          const onHost = await fsp.mkdtemp(path.join(this.containers.dirOf(c), 'cp-'));
          try {
            await unpack(body, onHost, { special: this.special, mode: 'layer' });
            await copyUp(onHost, staging, this.special);
          } finally {
            await fsp.rm(onHost, { recursive: true, force: true });
          }
        }
        await mergeInto(staging, dest, {
          noOverwriteDirNonDir: !!o.noOverwriteDirNonDir, at: where.containerPath, special: this.special,
          mountAt: (cp) => mounts.find((m) => m.destination === cp)?.source,
        });
      } finally {
        await fsp.rm(staging, { recursive: true, force: true });
      }
    });
  }

  private async statIn(view: RootfsView, ref: string, p: string, mounts: { destination: string; source: string }[]): Promise<PathStat> {
    const { resolved, containerPath } = await resolvePath(view.root, p, mounts);
    const st = await fsp.lstat(asEntry(view, resolved)).catch(() => undefined);
    if (!st || (!mapped(mounts, containerPath) && await underRuntimeMount(view, resolved))) throw new NotFoundError(`Could not find the file ${p} in container ${ref}`);
    let linkTarget = '';
    if (st.isSymbolicLink()) linkTarget = (await resolveInContainer(view.root, mounts, p)).containerPath;
    return { name: path.posix.basename(p) || '/', size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget };
  }

  /**
   * What is mounted over the container's root, as it sees it: its binds and volumes, the /etc/hostname, /etc/hosts
   * and /etc/resolv.conf Berth writes for it (once it has run; its own mounts there win), and, while it runs, its
   * tmpfs mounts, read live through its mount namespace. A stopped container's tmpfs is gone: the directory under
   * it shows, as in Docker.
   */
  private async viewMounts(c: ContainerRecord, view: RootfsView): Promise<{ destination: string; source: string }[]> {
    const mounts = sourceMounts(c.mounts);
    for (const file of ['hostname', 'hosts', 'resolv.conf'] as const) {
      const source = this.containers.etcPath(c, file);
      if (await fsp.lstat(source).then((st) => st.isFile(), () => false)) mounts.push({ destination: `/etc/${file}`, source });
    }
    if (view.liveDev !== undefined) {
      const tmpfs = [...Object.keys(c.hostConfig.Tmpfs ?? {}), ...(c.mounts ?? []).filter((m) => m.type === 'tmpfs').map((m) => m.destination)];
      for (const destination of tmpfs.map((d) => path.posix.resolve('/', d))) {
        const source = await liveMountPath(view.root, destination);
        if (source) mounts.unshift({ destination, source });
      }
    }
    return mounts;
  }

  private async withRoot<T>(c: ContainerRecord, fn: (view: RootfsView) => Promise<T>): Promise<T> {
    const view = await this.containers.rootfsUsers.acquire(c);
    try {
      return await fn(view);
    } finally {
      await view.release();
    }
  }
}

/**
 * Docker's ResolvePath: the parent directories resolved through symlinks inside the root, the last component
 * kept as is (a symlink is archived as a symlink), unless the path ends in "/" or "/.".
 */
export async function resolvePath(
  root: string, p: string, mounts: { destination: string; source: string }[] = [],
): Promise<{ resolved: string; base: string; containerPath: string }> {
  const trimmed = p.replace(/\/+$/, '');
  // Go's filepath.Base, as moby names the archive's top entry: trailing slashes dropped, "/." kept as ".".
  const base = path.posix.basename(trimmed) || '.';
  if (p.endsWith('/') || base === '.' || base === '..') {
    const at = await resolveInContainer(root, mounts, p);
    return { resolved: at.hostPath, base: base === '..' ? '.' : base, containerPath: at.containerPath };
  }
  // The last component is kept as it is (a symlink is archived as a symlink); a mount's destination is its source.
  const at = await resolveInContainer(root, mounts, trimmed, false);
  return { resolved: at.hostPath, base, containerPath: at.containerPath };
}

/**
 * `hostPath` to lstat as an entry of the container: a running container's root is a link to its namespace's root
 * (/proc/<pid>/fd/<n>), which lstat would report as a symlink; "/." names the directory it leads to.
 */
function asEntry(view: RootfsView, hostPath: string): string {
  return view.liveDev !== undefined && hostPath === view.root ? `${hostPath}/.` : hostPath;
}

/** Whether the mount at `m.destination` holds `containerPath` (is it, or lies above it). */
function holds(m: { destination: string }, containerPath: string): boolean {
  return containerPath === m.destination || containerPath.startsWith(m.destination + '/');
}

/** Whether a mount of the container's view (a volume, bind, /etc file or tmpfs) holds `containerPath`. */
function mapped(mounts: { destination: string }[], containerPath: string): boolean {
  return mounts.some((m) => holds(m, containerPath));
}

/**
 * Whether `hostPath`, under a running container's own root and no mount of its view, lies below a filesystem the
 * runtime mounted there (inside /proc, /sys, /dev): the root filesystem has nothing there, as the host's mount of
 * a stopped container shows.
 */
async function underRuntimeMount(view: RootfsView, hostPath: string): Promise<boolean> {
  if (view.liveDev === undefined || hostPath === view.root) return false;
  const parent = await fsp.stat(path.dirname(hostPath)).catch(() => undefined);
  return !!parent && parent.dev !== view.liveDev;
}

/**
 * `destination` inside a running container's mount namespace (its live root), where its tmpfs mounts live;
 * undefined if any component there is a symlink (the kernel would follow an absolute one from the daemon's root,
 * outside the container) or missing.
 */
async function liveMountPath(root: string, destination: string): Promise<string | undefined> {
  let at = root;
  for (const part of destination.split('/').filter(Boolean)) {
    at = path.join(at, part);
    const st = await fsp.lstat(at).catch(() => undefined);
    if (!st || st.isSymbolicLink()) return undefined;
  }
  return at;
}

/** The bind or volume whose destination holds `containerPath`, if any (the deepest one). */
function mountHolding<T extends { destination: string; type: string }>(mounts: T[], containerPath: string): T | undefined {
  return mounts.filter((m) => m.type !== 'tmpfs' && holds(m, containerPath))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
}

interface MergeOptions {
  /** Refuses to replace a directory with a non-directory, or the reverse. */
  noOverwriteDirNonDir: boolean;
  /** Where `dest` is in the container. */
  at: string;
  /** The host path mounted at a container path, if any. */
  mountAt: (containerPath: string) => string | undefined;
  special: SpecialFiles;
}

/** Moves the staged tree into `dest`: directories merge, anything else replaces (refused over a directory with `noOverwriteDirNonDir`). */
async function mergeInto(staged: string, dest: string, o: MergeOptions): Promise<void> {
  for (const name of await fsp.readdir(staged)) {
    const from = path.join(staged, name);
    const inContainer = path.posix.join(o.at, name);
    // An entry over a mount point goes into what is mounted there, as the container sees it.
    const mounted = o.mountAt(inContainer);
    const to = mounted ?? path.join(dest, name);
    const [src, dst] = await Promise.all([fsp.lstat(from), fsp.lstat(to).catch(() => undefined)]);
    // What is mounted is merged into, never replaced (a file bind's source is the host's file).
    if (mounted && !(src.isDirectory() && dst?.isDirectory())) {
      throw new InvalidParameterError(`cannot overwrite mount point "${inContainer}" with ${src.isDirectory() ? 'directory' : 'non-directory'} "${name}"`);
    }
    if (dst && src.isDirectory() && dst.isDirectory()) {
      if (src.dev === dst.dev) {
        await mergeInto(from, to, { ...o, at: inContainer });
      } else {
        // Another filesystem (a volume, a bind, a tmpfs): the subtree is copied to a staging directory there first,
        // so that what follows is renames again.
        const there = await fsp.mkdtemp(path.join(to, '.berth-cp-'));
        try {
          await copyUp(from, there, o.special);
          await mergeInto(there, to, { ...o, at: inContainer });
        } finally {
          await fsp.rm(there, { recursive: true, force: true });
        }
      }
      await fsp.chmod(to, src.mode & 0o7777);
      await fsp.lchown(to, src.uid, src.gid);
      await fsp.utimes(to, src.atime, src.mtime);
      continue;
    }
    if (dst && o.noOverwriteDirNonDir && dst.isDirectory() !== src.isDirectory()) {
      throw new InvalidParameterError(`cannot overwrite ${dst.isDirectory() ? 'directory' : 'non-directory'} "${to}" with ${src.isDirectory() ? 'directory' : 'non-directory'} "${name}"`);
    }
    if (dst) await fsp.rm(to, { recursive: true, force: true });
    await fsp.rename(from, to);
  }
}
