// Read-only views of the OCI runtimes' binaries, so that crun and runc stop copying and re-executing themselves on every call.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage } from '../errdefs';
import type { Mounter } from '../host/mount';

/**
 * crun (and runc's nsenter) defend against CVE-2019-5736, a container overwriting the host's runtime binary through
 * /proc/<pid>/exe, by re-executing a private read-only copy of themselves first: a bind mount or a sealed memfd, then a
 * second execve and a second dynamic link of ten libraries, on every `exec`, `create`, `start`, `kill` and `delete`
 * (about 4.5 ms of CPU per call on the bench VM). They skip that when their binary already lies on a read-only
 * filesystem (is_self_cloned in crun's cloned_binary.c): a read-only bind mount of the binary gives the same
 * protection once per daemon instead of once per call, so the runtimes are run from such a view.
 */
export interface BinaryFiles {
  /** "dev:ino" of the file a path leads to (through a mount on it), or undefined when there is none. */
  identity(file: string): Promise<string | undefined>;
  /** Whether the kernel refuses to write `file` because its filesystem is read-only (access(2) says EROFS). */
  readOnly(file: string): Promise<boolean>;
  /** Makes `file` (and its directory) if absent: the mount point of a view. */
  placeholder(file: string): Promise<void>;
  /** Whether the binary at `file` runs (`--version` exits 0): a view on a mount that forbids exec would not. */
  runs(file: string): Promise<boolean>;
}

/** The real files: stat, access and a `--version` run. */
export const hostBinaryFiles: BinaryFiles = {
  async identity(file) {
    const st = await fsp.stat(file).catch(() => undefined);
    return st ? `${st.dev}:${st.ino}` : undefined;
  },
  async readOnly(file) {
    try {
      await fsp.access(file, fsp.constants.W_OK);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EROFS';
    }
  },
  async placeholder(file) {
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await (await fsp.open(file, 'a', 0o600)).close();
  },
  runs: (file) => new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 10_000 }, (err) => resolve(!err));
  }),
};

export class RuntimeBinaryViews {
  private readonly mounted: string[] = [];

  /** `dir` holds one view per runtime, `<dir>/<runtime name>/<binary's file name>` (crun is recognised by its name). */
  constructor(private readonly dir: string, private readonly mounter: Mounter, private readonly files: BinaryFiles = hostBinaryFiles) {}

  /**
   * The runtimes to run, each through its view where one could be made; a runtime whose view cannot be made (no
   * mount privilege, a filesystem that forbids exec) keeps its own path, and `log` says why.
   */
  async prepare(runtimes: Record<string, string>, log: { error(msg: string): void }): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, binary] of Object.entries(runtimes)) {
      try {
        out[name] = await this.view(name, binary);
      } catch (e) {
        log.error(`runtime ${name}: running ${binary} itself, without a read-only view (it re-executes a copy of itself on every call): ${errorMessage(e)}`);
        out[name] = binary;
      }
    }
    return out;
  }

  /** Detaches the views this daemon mounted; nothing runs a runtime once berthd has stopped (conmon only at create). */
  async release(): Promise<void> {
    for (const view of this.mounted.splice(0)) await this.mounter.umount(view, { lazy: true }).catch(() => undefined);
  }

  private async view(name: string, binary: string): Promise<string> {
    const view = path.join(this.dir, name, path.basename(binary));
    const want = await this.files.identity(binary);
    if (!want) throw new Error(`${binary} does not exist`);
    // A view left by a berthd that was killed is reused when it still shows the same binary; one of a binary since
    // replaced (a package upgrade) is detached first, or the old binary would run until the next reboot.
    if ((await this.files.identity(view)) === want && (await this.files.readOnly(view))) return this.keep(view);
    await this.mounter.umount(view, { lazy: true }).catch(() => undefined);
    await this.files.placeholder(view);
    // mount(8) applies ro to a bind mount with a second, remounting mount(2).
    await this.mounter.mount('none', binary, view, ['bind', 'ro']);
    const problem = (await this.files.identity(view)) !== want ? 'the view shows another file'
      : !(await this.files.readOnly(view)) ? 'the view is writable'
        : !(await this.files.runs(view)) ? 'the view does not run' : undefined;
    if (problem) {
      await this.mounter.umount(view, { lazy: true }).catch(() => undefined);
      throw new Error(`${problem} (${view})`);
    }
    return this.keep(view);
  }

  private keep(view: string): string {
    this.mounted.push(view);
    return view;
  }
}
