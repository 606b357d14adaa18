// The filesystem storage driver: objects are files under a root, written to a temporary file and renamed into place.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HostFilesystemSync, type FilesystemSync } from '../host/filesystem-sync';
import { fsyncDir } from '../store/atomic';
import { discardPartialFile } from '../store/partial-file';
import { DEFAULT_FLUSH_EVERY, WriteBehind } from '../util/write-behind';
import { storagePath, type ObjectInfo, type StorageDriver } from './storage-driver';

/** Temporary files live in one directory on the same filesystem, so a rename moves them into place. */
const TEMP_DIR = '.tmp';

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly tempDir: string;
  /**
   * Flushes the files streams are writing every `flushEvery` bytes streamed, while they are written: the disk
   * would otherwise idle until each object's fsync at its end (the kernel's writeback starts far later), which then
   * waited for the whole object. One for the driver, so one flush at a time however many uploads run: each holds a
   * thread of libuv's pool (4) while the disk works, and the uploads' own writes need the others.
   */
  private readonly behind: WriteBehind | null;

  /** `durable`: fsync files and directories before a write counts as done (off only for benchmarks of the floor). */
  constructor(readonly root: string, private readonly durable = true,
    sync: FilesystemSync = new HostFilesystemSync(), flushEvery = DEFAULT_FLUSH_EVERY) {
    this.tempDir = path.join(root, TEMP_DIR);
    this.behind = durable ? new WriteBehind((files) => sync.syncFiles(files), flushEvery) : null;
  }

  /** Creates the root and drops temporary files older than `staleMs` (left by a killed server). */
  async init(staleMs = 24 * 3600_000): Promise<void> {
    await fsp.mkdir(this.tempDir, { recursive: true });
    const now = Date.now();
    for (const name of await fsp.readdir(this.tempDir)) {
      const file = path.join(this.tempDir, name);
      const st = await fsp.stat(file).catch(() => null);
      if (st && now - st.mtimeMs > staleMs) await fsp.rm(file, { force: true, recursive: true });
    }
  }

  private full(p: string): string {
    return path.join(this.root, storagePath(p));
  }

  private tempFile(): string {
    return path.join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }

  async getContent(p: string): Promise<Buffer | null> {
    try {
      return await fsp.readFile(this.full(p));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async putContent(p: string, data: Buffer | string): Promise<void> {
    const tmp = this.tempFile();
    await fsp.mkdir(this.tempDir, { recursive: true });
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (this.durable) await fh.sync();
    } catch (err) {
      await fh.close();
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await this.commit(tmp, this.full(p));
  }

  async putStream(p: string, source: Readable): Promise<number> {
    // No await before the pipeline: a source that fails early must find its error handler attached.
    const tmp = this.tempFile();
    let size = 0;
    const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    const behind = this.behind;
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          size += chunk.length;
          behind?.wrote(tmp, chunk.length);
          cb(null, chunk);
        },
      });
      await pipeline(source, counter, out);
      if (this.durable) {
        // Not behind.settle(): its flush may be another upload's; this fsync waits for this file's pages only.
        const fh = await fsp.open(tmp, 'r+');
        try { await fh.sync(); } finally { await fh.close(); }
      }
    } catch (err) {
      // A flush of the file removed here skips it or flushes an unlinked inode: neither needs waiting for.
      await discardPartialFile(out, tmp);
      throw err;
    }
    await this.commit(tmp, this.full(p));
    return size;
  }

  /** Renames a complete temporary file over `target`, creating its directory. */
  private async commit(tmp: string, target: string): Promise<void> {
    try {
      await this.renameInto(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    if (this.durable) await fsyncDir(path.dirname(target));
  }

  /** mkdir -p and rename; retried when a concurrent prune removed the fresh directory in between. */
  private async renameInto(from: string, target: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      try {
        await fsp.rename(from, target);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5 || !fs.existsSync(from)) throw err;
      }
    }
  }

  /** Removes directories left empty below the root, as object storage has no empty directories. */
  private async pruneEmpty(dir: string): Promise<void> {
    const root = path.resolve(this.root);
    for (let d = path.resolve(dir); d !== root && d.startsWith(root + path.sep); d = path.dirname(d)) {
      try {
        await fsp.rmdir(d);
      } catch {
        return;
      }
    }
  }

  async stat(p: string): Promise<ObjectInfo | null> {
    try {
      const st = await fsp.stat(this.full(p));
      if (!st.isFile()) return null;
      return { path: storagePath(p), size: st.size, modified: st.mtime };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async reader(p: string, offset = 0, length?: number): Promise<Readable | null> {
    const file = this.full(p);
    const st = await fsp.stat(file).catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    if (!st || !st.isFile()) return null;
    if (length === 0) return Readable.from([]);
    return fs.createReadStream(file, { start: offset, end: length === undefined ? undefined : offset + length - 1, highWaterMark: 1 << 20 });
  }

  async list(dir: string): Promise<string[]> {
    try {
      const names = await fsp.readdir(this.full(dir));
      return names.filter((n) => n !== TEMP_DIR).sort();
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw err;
    }
  }

  async *walk(dir: string): AsyncIterable<ObjectInfo> {
    const base = storagePath(dir);
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(this.full(base), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (base === '/' && e.name === TEMP_DIR) continue;
      const child = base === '/' ? `/${e.name}` : `${base}/${e.name}`;
      if (e.isDirectory()) yield* this.walk(child);
      else if (e.isFile()) {
        const st = await fsp.stat(this.full(child)).catch(() => null);
        if (st) yield { path: child, size: st.size, modified: st.mtime };
      }
    }
  }

  async move(from: string, to: string): Promise<void> {
    const target = this.full(to);
    await this.renameInto(this.full(from), target);
    if (this.durable) await fsyncDir(path.dirname(target));
    await this.pruneEmpty(path.dirname(this.full(from)));
  }

  async delete(p: string): Promise<void> {
    const target = this.full(p);
    // Renamed away first, so a crash mid-removal never leaves a half-deleted directory in the tree.
    const doomed = path.join(this.tempDir, `del-${randomBytes(8).toString('hex')}`);
    try {
      await fsp.mkdir(this.tempDir, { recursive: true });
      await fsp.rename(target, doomed);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    await fsp.rm(doomed, { recursive: true, force: true });
    await this.pruneEmpty(path.dirname(target));
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
