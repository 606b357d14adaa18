// Network namespaces that outlive the processes in them, one per container, under the exec root. A bridge endpoint's
// namespace is made held: berthd keeps it by a descriptor from the moment the process that made and configured it has
// answered (configureFresh), and its file is a symlink to that descriptor, later to /proc/<pid>/ns/net of the
// container's process, so Docker's SandboxKey opens it. It is never mounted: every mount in the host's table is copied
// into each later container's mount namespace and read by its runtime (a thousand of them slowed every start,
// decision 21), and a mount needs a umount(8) process to go (decision 19). `create` still makes a namespace as an
// nsfs bind mount on its file (as `ip netns` does), for the scratch namespace of a replayed teardown; such a mount,
// or one an older berthd made, is traded for a descriptor by `hold` once the container's process is in it.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError } from '../errdefs';
import { onMemoryFilesystem } from '../host/memory-filesystem';
import { openProcessEntry } from '../host/process-root';
import { KeyedMutex } from '../util/mutex';

/** Network namespaces that outlive the process that made them, one file per container. */
export interface NetnsManager {
  /** The path of a container's namespace file (it need not exist): Docker's SandboxKey. */
  pathOf(id: string): string;
  /** Creates a fresh namespace at pathOf(id) (replacing a stale one) and returns its path. */
  create(id: string): Promise<string>;
  /**
   * Readies pathOf(id) for a namespace made later (replacing a stale one): an empty file, which the first
   * configuration of the namespace replaces as it makes it (configureFresh, from links-iproute.ts), so making and
   * configuring cost one process. Returns the path.
   */
  reserve(id: string): Promise<string>;
  /**
   * Holds the namespace by a descriptor from now on, and lets its file's bind mount go: `pid`, the container's
   * process, is in it (checked to be in `cgroupPath`, the container's cgroup, so a reused pid is never taken for
   * it). Also for containers found running at berthd's start, whose file may already be a symlink. Does nothing when
   * there is no namespace or the pid is not in it.
   */
  hold(id: string, pid: number, cgroupPath: string): Promise<void>;
  /**
   * A path another process opens for the namespace now (nsenter, unshare): berthd's descriptor once held, else the
   * file, which may be only reserved (not yet a namespace). Not a path to keep: it names a descriptor of this berthd.
   */
  enterPath(id: string): Promise<string>;
  /**
   * Unmounts and deletes the namespace file and lets go of the descriptor; absent is fine. Once it resolves nothing
   * but the kernel's own cleanup holds the namespace: its interfaces go a few milliseconds later.
   */
  remove(id: string): Promise<void>;
  /** Whether the namespace is live: held by berthd, or mounted on its file. */
  exists(id: string): Promise<boolean>;
  /** IDs of every namespace file present (for reconciliation at start-up). */
  list(): Promise<string[]>;
}

/**
 * Makes a container's namespace and configures it with one process, held by berthd's descriptor from the start:
 * never mounted, so nothing is unmounted at the hand-over or the stop (links-iproute.ts uses it for a fresh endpoint).
 */
export interface FreshNamespaces {
  /**
   * Runs `command` (given `input` on its stdin) in a new network namespace for `file`, a reserved pathOf(id); once it
   * has succeeded berthd holds the namespace and the file is a symlink to that descriptor. On failure nothing is held.
   */
  configureFresh(file: string, command: string[], input: string): Promise<void>;
}

/**
 * How long hand-overs gather before their bind mounts go in one umount(8): a burst of starts pays one process,
 * not one each.
 */
const UNMOUNT_BATCH_MS = 50;

export class LinuxNetns implements NetnsManager, FreshNamespaces {
  /** Every operation on one ID's namespace takes its turn (a start again waits for the last stop's removal). */
  private readonly turns = new KeyedMutex();
  /** Namespaces berthd holds open, by ID. */
  private readonly held = new Map<string, fsp.FileHandle>();
  /** Files whose bind mount goes in the next batch, with who waits for it. */
  private unmounts: { file: string; done: () => void }[] = [];

  constructor(private readonly dir: string) {}

  pathOf(id: string): string { return path.join(this.dir, id); }

  create(id: string): Promise<string> {
    return this.turns.run(id, async () => {
      const file = await this.reserveNow(id);
      // unshare(1) makes the namespace and bind-mounts /proc/<pid>/ns/net on the file; the mount keeps it alive.
      const r = await run('unshare', [`--net=${file}`, 'true']);
      if (r.code !== 0) {
        await fsp.rm(file, { force: true });
        throw new SystemError(`cannot create network namespace ${file}: ${r.stderr.trim() || `unshare exited ${r.code}`}`);
      }
      return file;
    });
  }

  reserve(id: string): Promise<string> {
    return this.turns.run(id, () => this.reserveNow(id));
  }

  private async reserveNow(id: string): Promise<string> {
    const file = this.pathOf(id);
    // On a tmpfs (the exec root under /run) synchronous calls: no thread-pool round trips on a start (decision 29).
    const inMemory = onMemoryFilesystem(this.dir);
    if (inMemory) fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    else await fsp.mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.removeNow(id);
    if (inMemory) fs.writeFileSync(file, '', { mode: 0o444 });
    else await fsp.writeFile(file, '', { mode: 0o444 });
    return file;
  }

  configureFresh(file: string, command: string[], input: string): Promise<void> {
    const id = path.basename(file);
    if (this.pathOf(id) !== file) return Promise.reject(new SystemError(`${file} is not a namespace file of ${this.dir}`));
    return this.turns.run(id, async () => {
      // Only on a file reserve() made: never a namespace where nobody asked for one.
      if ((await fileKind(file)) !== 'other' || !fs.lstatSync(file).isFile()) throw new SystemError(`cannot create network namespace ${file}: the file is not reserved for one`);
      const handle = await runInNewNamespace(command, input);
      const old = this.held.get(id);
      this.held.set(id, handle);
      await old?.close();
      try {
        // Docker's SandboxKey opens the namespace through the file: here through berthd's descriptor, and through the
        // container's process once it runs (hold).
        await replaceWithLink(file, `/proc/${process.pid}/fd/${handle.fd}`);
      } catch (e) {
        this.held.delete(id);
        await handle.close();
        throw e;
      }
    });
  }

  hold(id: string, pid: number, cgroupPath: string): Promise<void> {
    return this.turns.run(id, async () => {
      if (!(pid > 0)) return;
      const file = this.pathOf(id);
      const kind = await fileKind(file);
      const handle = this.held.get(id);
      if (handle) {
        // Made held (configureFresh): the file is pointed at the container's process, which outlives this berthd.
        if (kind === 'link' && (await sameNamespace(handle, pid, cgroupPath))) await replaceWithLink(file, `/proc/${pid}/ns/net`);
        return;
      }
      if (kind === 'mounted') {
        // The mount itself is opened (no pid in between), then checked to be the process's namespace.
        const handle = await fsp.open(file, 'r');
        const ours = await sameNamespace(handle, pid, cgroupPath);
        if (!ours) { await handle.close(); return; }
        this.held.set(id, handle);
        await this.unmountSoon(file);
        await replaceWithLink(file, `/proc/${pid}/ns/net`);
      } else if (kind === 'link') {
        // Made by an earlier berthd: the process is the way in, trusted only while it is in the container's cgroup.
        const handle = await openProcessEntry(pid, cgroupPath, 'ns/net');
        if (!handle) return;
        this.held.set(id, handle);
        await replaceWithLink(file, `/proc/${pid}/ns/net`);
      }
    });
  }

  async enterPath(id: string): Promise<string> {
    await this.turns.run(id, async () => undefined);
    const handle = this.held.get(id);
    return handle ? `/proc/${process.pid}/fd/${handle.fd}` : this.pathOf(id);
  }

  remove(id: string): Promise<void> {
    return this.turns.run(id, () => this.removeNow(id));
  }

  private async removeNow(id: string): Promise<void> {
    const handle = this.held.get(id);
    this.held.delete(id);
    await handle?.close();
    const file = this.pathOf(id);
    // Detach every mount stacked on the file (a crash could leave more than one), then delete it. Not with the
    // hand-overs' batch: a stop answers once the namespace is let go, so that its veth is gone (as with dockerd) when
    // the client looks, not 50 ms later. Only a scratch namespace, or one an older berthd mounted, is mounted here.
    for (let i = 0; i < 5 && (await fileKind(file)) === 'mounted'; i++) await run('umount', ['-l', '-n', file]);
    if (onMemoryFilesystem(this.dir)) fs.rmSync(file, { force: true });
    else await fsp.rm(file, { force: true });
  }

  exists(id: string): Promise<boolean> {
    return this.turns.run(id, async () => this.held.has(id) || (await fileKind(this.pathOf(id))) === 'mounted');
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  }

  /** Lazily unmounts `file` with the others asked for within UNMOUNT_BATCH_MS, in one umount(8). */
  private unmountSoon(file: string): Promise<void> {
    return new Promise((resolve) => {
      this.unmounts.push({ file, done: resolve });
      if (this.unmounts.length > 1) return;
      // Not unref'd: a hold awaits it, at start-up too, before anything else keeps the process alive.
      setTimeout(() => {
        const batch = this.unmounts;
        this.unmounts = [];
        // A failure leaves that file mounted (harmless: removal unmounts it), and the others are unmounted anyway.
        void run('umount', ['-l', '-n', ...batch.map((b) => b.file)]).then(() => batch.forEach((b) => b.done()));
      }, UNMOUNT_BATCH_MS);
    });
  }
}

/**
 * A file on which a network namespace is bind-mounted, or a path that opens one: statfs says nsfs. (The mount table
 * says so too, but reading /proc/self/mountinfo costs tens of milliseconds on a host with a thousand mounts.)
 */
export async function isNsfs(file: string): Promise<boolean> {
  // Synchronous (decision 29): statfs of a namespace file, a /proc path or a file just made in the exec root reads
  // what the kernel has in memory.
  try {
    return fs.statfsSync(file).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** statfs(2)'s f_type of nsfs (linux/magic.h). */
const NSFS_MAGIC = 0x6e736673;

/** What a namespace file is: a namespace mounted on it, a symlink to a process's (never followed here), or else. */
async function fileKind(file: string): Promise<'mounted' | 'link' | 'other' | 'absent'> {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return 'absent';
  if (st.isSymbolicLink()) return 'link';
  return (await isNsfs(file)) ? 'mounted' : 'other';
}

/** Whether the namespace open at `handle` is the one process `pid`, in `cgroupPath`, is in. */
async function sameNamespace(handle: fsp.FileHandle, pid: number, cgroupPath: string): Promise<boolean> {
  const its = await openProcessEntry(pid, cgroupPath, 'ns/net');
  if (!its) return false;
  try {
    const [a, b] = await Promise.all([handle.stat(), its.stat()]);
    return a.dev === b.dev && a.ino === b.ino;
  } finally {
    await its.close();
  }
}

/** Points `file` at `target` (/proc/<pid>/ns/net, or berthd's descriptor), atomically: a symlink renamed over it. */
async function replaceWithLink(file: string, target: string): Promise<void> {
  if ((await fsp.readlink(file).catch(() => '')) === target) return;
  const tmp = `${path.dirname(file)}/.${path.basename(file)}.link`;
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(target, tmp);
  await fsp.rename(tmp, file).catch(async (e: unknown) => { await fsp.rm(tmp, { force: true }); throw e; });
}

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/**
 * The line after the caller's: `ip -batch` answers it (and flushes) only once every line before it succeeded, and
 * stops at the first that fails.
 */
const DONE_LINE = 'link show dev lo\n';
const DONE_ANSWER = /^\d+: lo:/m;

/**
 * `unshare --net COMMAND` with `input` then DONE_LINE on its stdin, kept open until berthd has opened the process's
 * namespace (/proc/<pid>/ns/net, checked not to be berthd's own); then the input ends and the command must exit 0.
 */
async function runInNewNamespace(command: string[], input: string): Promise<fsp.FileHandle> {
  const fail = (why: string) => new SystemError(`unshare --net ${command.join(' ')}: ${why}`);
  const child = spawn('unshare', ['--net', ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdin.on('error', () => undefined); // a command that fails stops reading: its own message says why
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => { err ||= e.message; resolve(-1); });
    child.on('close', (code) => resolve(code ?? -1));
  });
  const answered = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (DONE_ANSWER.test(out)) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  child.stdin.write(input + DONE_LINE);
  if (!(await answered)) {
    child.stdin.destroy();
    const code = await exited;
    throw fail(err.trim() || `exited ${code} before it got through its input`);
  }
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(`/proc/${child.pid}/ns/net`, 'r');
    const [ours, made] = [fs.statSync('/proc/self/ns/net'), await handle.stat()];
    if (ours.dev === made.dev && ours.ino === made.ino) throw fail('the command is not in a namespace of its own');
  } catch (e) {
    child.stdin.end();
    await exited;
    await handle?.close();
    throw e instanceof SystemError ? e : fail((e as Error).message);
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) {
    await handle.close();
    throw fail(err.trim() || `exited ${code}`);
  }
  return handle;
}
