// The build cache index: which image a build step made from a parent image and a step key. It survives restarts
// (one JSON file under the data root, replaced atomically); the images themselves live in the image store.
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../store/atomic';

export interface CacheEntry {
  /** The image the step produced. */
  image: string;
  /** The parent image the step ran on ("" for scratch). */
  parent: string;
  /** What the step was, for `builder prune` listings: the history line. */
  description: string;
  /** When the entry was made and last used (RFC 3339, wall clock: never part of an image). */
  createdAt: string;
  lastUsedAt: string;
}

interface CacheFile { version: 1; entries: Record<string, CacheEntry> }

/** The key of a step: its parent image and a description of everything that decides its result. */
export function stepKey(parent: string, descriptor: unknown): string {
  return 'sha256:' + createHash('sha256').update(JSON.stringify({ v: 1, parent, step: descriptor })).digest('hex');
}

export class BuildCache {
  private readonly file: string;
  private entries: Record<string, CacheEntry> = {};
  /** Entries were added or removed since the last write. */
  private dirty = false;
  /** Only last-used times moved since the last write. */
  private touched = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.file = path.join(dir, 'cache.json');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await removeStaleTemps(this.dir);
    const data = await readJsonIfExists<CacheFile>(this.file).catch(() => undefined);
    this.entries = data?.version === 1 && data.entries && typeof data.entries === 'object' ? data.entries : {};
  }

  /** The image recorded for `key`, if `exists` still finds it (a removed image drops its entry). */
  lookup(key: string, exists: (image: string) => boolean): string | undefined {
    const e = this.entries[key];
    if (!e) return undefined;
    if (!exists(e.image)) {
      delete this.entries[key];
      this.dirty = true;
      return undefined;
    }
    e.lastUsedAt = new Date().toISOString();
    this.touched = true;
    return e.image;
  }

  record(key: string, image: string, parent: string, description: string): void {
    const now = new Date().toISOString();
    this.entries[key] = { image, parent, description, createdAt: now, lastUsedAt: now };
    this.dirty = true;
  }

  all(): [string, CacheEntry][] {
    return Object.entries(this.entries);
  }

  remove(keys: Iterable<string>): void {
    for (const k of keys) if (this.entries[k]) { delete this.entries[k]; this.dirty = true; }
  }

  /**
   * Writes the index if it changed. The rename is atomic, so a crash leaves the old or the new index; an entry
   * lost to a power cut only costs a rebuild of that step. When only last-used times moved (a rebuild that hit
   * the cache everywhere), the write is started and not waited for: the build's answer does not wait on a
   * file that only `docker system df` reads.
   */
  async flush(): Promise<void> {
    const run = async () => {
      if (!this.dirty && !this.touched) return;
      this.dirty = false;
      this.touched = false;
      const data: CacheFile = { version: 1, entries: this.entries };
      try {
        await writeJsonAtomic(this.file, data, { durable: false });
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    };
    const waitFor = this.dirty;
    this.writing = this.writing.then(run, run);
    if (waitFor) return this.writing;
    this.writing.catch(() => undefined);
  }
}
