// Persistent network namespaces: a file under the exec root that an nsfs bind mount keeps alive (as `ip netns` does).
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError } from '../errdefs';

/** Network namespaces that outlive the process that made them, one file per container. */
export interface NetnsManager {
  /** The path of a container's namespace file (it need not exist). */
  pathOf(id: string): string;
  /** Creates a fresh namespace at pathOf(id) (replacing a stale one) and returns its path. */
  create(id: string): Promise<string>;
  /**
   * Readies pathOf(id) for a namespace made later (replacing a stale one): an empty file, on which the first
   * configuration of the namespace mounts it as it makes it (`unshare --net=FILE ip …`, links-iproute.ts), so making
   * and configuring cost one process. Returns the path.
   */
  reserve(id: string): Promise<string>;
  /** Unmounts and deletes the namespace file; absent is fine. */
  remove(id: string): Promise<void>;
  /**
   * remove() without waiting for it (errors go to `onError`): the other calls for the same ID wait for it, so a
   * container that starts again gets a fresh namespace. For the stop path, whose caller has no use for the wait.
   */
  discard(id: string, onError: (e: unknown) => void): void;
  /** Whether the file is a live namespace (mounted nsfs). */
  exists(id: string): Promise<boolean>;
  /** IDs of every namespace file present (for reconciliation at start-up). */
  list(): Promise<string[]>;
}

export class LinuxNetns implements NetnsManager {
  /** Removals under way (discard), by ID. */
  private readonly removing = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  pathOf(id: string): string { return path.join(this.dir, id); }

  async create(id: string): Promise<string> {
    const file = await this.reserve(id);
    // unshare(1) makes the namespace and bind-mounts /proc/<pid>/ns/net on the file; the mount keeps it alive.
    const r = await run('unshare', [`--net=${file}`, 'true']);
    if (r.code !== 0) {
      await fsp.rm(file, { force: true });
      throw new SystemError(`cannot create network namespace ${file}: ${r.stderr.trim() || `unshare exited ${r.code}`}`);
    }
    return file;
  }

  async reserve(id: string): Promise<string> {
    await this.removing.get(id);
    const file = this.pathOf(id);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.remove(id);
    await fsp.writeFile(file, '', { mode: 0o444 });
    return file;
  }

  discard(id: string, onError: (e: unknown) => void): void {
    const done = (this.removing.get(id) ?? Promise.resolve())
      .then(() => this.removeNow(id))
      .catch(onError)
      .finally(() => { if (this.removing.get(id) === done) this.removing.delete(id); });
    this.removing.set(id, done);
  }

  async remove(id: string): Promise<void> {
    await this.removing.get(id);
    await this.removeNow(id);
  }

  private async removeNow(id: string): Promise<void> {
    const file = this.pathOf(id);
    // Detach every mount stacked on the file (a crash could leave more than one), then delete it.
    for (let i = 0; i < 4 && (await isNsfs(file)); i++) await run('umount', ['-l', '-n', file]);
    await fsp.rm(file, { force: true });
  }

  async exists(id: string): Promise<boolean> {
    await this.removing.get(id);
    return isNsfs(this.pathOf(id));
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  }
}

/**
 * A file on which a network namespace is bind-mounted: statfs says nsfs. (The mount table says so too, but reading
 * /proc/self/mountinfo costs tens of milliseconds on a host with a thousand mounts, several times per container.)
 */
export async function isNsfs(file: string): Promise<boolean> {
  const s = await fsp.statfs(file).catch(() => undefined);
  return s?.type === NSFS_MAGIC;
}

/** statfs(2)'s f_type of nsfs (linux/magic.h). */
const NSFS_MAGIC = 0x6e736673;

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}
