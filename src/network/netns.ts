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
  /** Unmounts and deletes the namespace file; absent is fine. */
  remove(id: string): Promise<void>;
  /** Whether the file is a live namespace (mounted nsfs). */
  exists(id: string): Promise<boolean>;
  /** IDs of every namespace file present (for reconciliation at start-up). */
  list(): Promise<string[]>;
}

export class LinuxNetns implements NetnsManager {
  constructor(private readonly dir: string) {}

  pathOf(id: string): string { return path.join(this.dir, id); }

  async create(id: string): Promise<string> {
    const file = this.pathOf(id);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.remove(id);
    await fsp.writeFile(file, '', { mode: 0o444 });
    // unshare(1) makes the namespace and bind-mounts /proc/<pid>/ns/net on the file; the mount keeps it alive.
    const r = await run('unshare', [`--net=${file}`, 'true']);
    if (r.code !== 0) {
      await fsp.rm(file, { force: true });
      throw new SystemError(`cannot create network namespace ${file}: ${r.stderr.trim() || `unshare exited ${r.code}`}`);
    }
    return file;
  }

  async remove(id: string): Promise<void> {
    const file = this.pathOf(id);
    // Detach every mount stacked on the file (a crash could leave more than one), then delete it.
    for (let i = 0; i < 4 && (await isNsfs(file)); i++) await run('umount', ['-l', '-n', file]);
    await fsp.rm(file, { force: true });
  }

  async exists(id: string): Promise<boolean> {
    return isNsfs(this.pathOf(id));
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  }
}

/** A file on which a network namespace is bind-mounted (nsfs) — checked through the mount table. */
async function isNsfs(file: string): Promise<boolean> {
  const text = await fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const escaped = file.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[4] === escaped && line.includes(' - nsfs ')) return true;
  }
  return false;
}

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}
