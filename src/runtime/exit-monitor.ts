// Watches the directory where conmon writes each container's exit code, so exits are noticed at once.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** `exitedAt` is when conmon wrote the exit file: the real exit time, also for exits while berthd was down. */
export type ExitListener = (id: string, exitCode: number, exitedAt: Date) => Promise<void> | void;

export class ExitMonitor {
  private watcher?: fs.FSWatcher;
  private readonly seen = new Set<string>();

  constructor(private readonly exitDir: string, private readonly onExit: ExitListener) {}

  async start(): Promise<void> {
    await fsp.mkdir(this.exitDir, { recursive: true });
    this.watcher = fs.watch(this.exitDir, { persistent: false }, (_event, filename) => {
      if (filename) void this.check(filename.toString());
    });
    this.watcher.on('error', () => { /* the directory is ours; a transient error is retried by scanAll */ });
  }

  stop(): void {
    this.watcher?.close();
  }

  /** The recorded exit code of a container, if conmon has written it. */
  async read(id: string): Promise<number | undefined> {
    try {
      const text = (await fsp.readFile(path.join(this.exitDir, id), 'utf8')).trim();
      if (text === '') return undefined;
      const code = Number(text);
      return Number.isFinite(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }

  /** Forgets a container's exit file before it starts again. */
  async clear(id: string): Promise<void> {
    this.seen.delete(id);
    await fsp.rm(path.join(this.exitDir, id), { force: true });
  }

  /** Reports exits that happened while nobody watched (daemon down), resolving once they are all handled. */
  async scanAll(): Promise<void> {
    for (const name of await fsp.readdir(this.exitDir).catch(() => [] as string[])) await this.check(name);
  }

  private async check(id: string): Promise<void> {
    if (this.seen.has(id) || !/^[0-9a-f]{64}$/.test(id)) return;
    const code = await this.read(id);
    if (code === undefined || this.seen.has(id)) return;
    this.seen.add(id);
    const st = await fsp.stat(path.join(this.exitDir, id)).catch(() => undefined);
    await this.onExit(id, code, st?.mtime ?? new Date());
  }
}
