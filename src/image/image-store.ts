// Image records and their references (repo:tag, repo@digest) in one crash-safe JSON index; configs live in the content store.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NotFoundError } from '../errdefs';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../store/atomic';
import type { ImageConfig } from '../wire/oci';
import type { ContentStore } from './content-store';
import { parseNormalizedNamed, type ImageReference } from '../wire/reference';

export interface StoredImage {
  /** The image this one was committed on top of (Docker's classic "Parent"), if any. */
  parent?: string;
  /** When a tag was last set on it (Docker's Metadata.LastTagTime). */
  lastTagTime?: string;
}

interface IndexFile {
  version: 1;
  images: Record<string, StoredImage>;
  /** Full reference string ("docker.io/library/busybox:latest") → image ID. */
  references: Record<string, string>;
  /**
   * Images deleted while containers still used them (rmi --force): their layers stay until those
   * containers are gone. Image ID → the top ChainID of its layers.
   */
  retained: Record<string, string | null>;
}

export class ImageStore {
  readonly dir: string;
  private readonly indexPath: string;
  private index: IndexFile = { version: 1, images: {}, references: {}, retained: {} };
  private readonly configs = new Map<string, ImageConfig>();
  private writing: Promise<void> = Promise.resolve();
  private batching = 0;
  private dirty = false;

  constructor(root: string, private readonly content: ContentStore) {
    this.dir = path.join(root, 'images');
    this.indexPath = path.join(this.dir, 'index.json');
  }

  /**
   * Loads the index, dropping temporaries a crash left; images whose config is missing or that `valid`
   * rejects are dropped with their references, so no half image is ever listed.
   */
  async init(valid: (id: string, config: ImageConfig) => boolean): Promise<string[]> {
    await fsp.mkdir(this.dir, { recursive: true });
    await removeStaleTemps(this.dir);
    const loaded = await readJsonIfExists<IndexFile>(this.indexPath);
    this.index = { version: 1, images: loaded?.images ?? {}, references: loaded?.references ?? {}, retained: loaded?.retained ?? {} };
    this.configs.clear();
    const dropped: string[] = [];
    for (const id of Object.keys(this.index.images)) {
      let config: ImageConfig | undefined;
      try {
        config = JSON.parse((await this.content.readBlob(id)).toString('utf8')) as ImageConfig;
      } catch {
        config = undefined;
      }
      if (config && valid(id, config)) this.configs.set(id, config);
      else {
        delete this.index.images[id];
        dropped.push(id);
      }
    }
    // Written back only when repaired: a clean start changes nothing on disk.
    let changed = dropped.length > 0 || !loaded;
    for (const [ref, id] of Object.entries(this.index.references)) {
      if (!this.index.images[id]) { delete this.index.references[ref]; changed = true; }
    }
    for (const img of Object.values(this.index.images)) {
      if (img.parent && !this.index.images[img.parent]) { delete img.parent; changed = true; }
    }
    if (changed) await this.flush();
    return dropped;
  }

  ids(): string[] { return Object.keys(this.index.images); }

  has(id: string): boolean { return id in this.index.images; }

  meta(id: string): StoredImage {
    const m = this.index.images[id];
    if (!m) throw new NotFoundError(`No such image: ${id}`);
    return m;
  }

  config(id: string): ImageConfig {
    const c = this.configs.get(id);
    if (!c) throw new NotFoundError(`No such image: ${id}`);
    return c;
  }

  /**
   * Records an image whose config blob and layers are already stored, and points `refs` at it, in one
   * index write. Returns, for each reference, the image it pointed at before (if any).
   */
  async add(id: string, config: ImageConfig, meta: StoredImage = {}, refs: readonly ImageReference[] = [], tagTime?: string): Promise<(string | undefined)[]> {
    if (!this.has(id)) {
      this.index.images[id] = { ...meta };
      this.configs.set(id, config);
      delete this.index.retained[id];
    }
    const previous = refs.map((ref) => {
      const key = ref.toString();
      const prev = this.index.references[key];
      this.index.references[key] = id;
      return prev;
    });
    if (refs.length && tagTime) this.index.images[id]!.lastTagTime = tagTime;
    await this.flush();
    return previous;
  }

  async setParent(id: string, parent: string): Promise<void> {
    const m = this.meta(id);
    if (m.parent === parent) return;
    m.parent = parent;
    await this.flush();
  }

  /** Removes the image and its references; `retainChain` keeps its layers for containers still using it. */
  async delete(id: string, retainChain?: string | null): Promise<void> {
    delete this.index.images[id];
    this.configs.delete(id);
    for (const [ref, target] of Object.entries(this.index.references)) if (target === id) delete this.index.references[ref];
    for (const img of Object.values(this.index.images)) if (img.parent === id) delete img.parent;
    if (retainChain !== undefined) this.index.retained[id] = retainChain;
    await this.flush();
  }

  retained(): Record<string, string | null> { return { ...this.index.retained }; }

  async release(ids: string[]): Promise<void> {
    if (!ids.length) return;
    for (const id of ids) delete this.index.retained[id];
    await this.flush();
  }

  children(id: string): string[] {
    return Object.entries(this.index.images).filter(([, m]) => m.parent === id).map(([cid]) => cid);
  }

  /** References to an image, in Docker's (lexical) order. */
  references(id: string): ImageReference[] {
    return Object.entries(this.index.references)
      .filter(([, target]) => target === id)
      .map(([ref]) => ref)
      .sort()
      .map((r) => parseNormalizedNamed(r));
  }

  /** All references to images in one repository (by full name). */
  referencesByName(name: string): { ref: ImageReference; id: string }[] {
    return Object.entries(this.index.references)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([r, id]) => ({ ref: parseNormalizedNamed(r), id }))
      .filter((e) => e.ref.name === name);
  }

  lookup(ref: ImageReference): string | undefined {
    return this.index.references[ref.toString()];
  }

  /** Points a reference at an image; returns the image it pointed at before, if another. */
  async setReference(ref: ImageReference, id: string, tagTime?: string): Promise<string | undefined> {
    const key = ref.toString();
    const prev = this.index.references[key];
    if (tagTime) this.meta(id).lastTagTime = tagTime;
    if (prev === id) {
      // The same reference again (a rebuild's -t with nothing changed) moves only the tag time: carried by the
      // index's next write (or berthd's stop) rather than a synced write of its own in the build's answer.
      this.dirty = true;
      return undefined;
    }
    this.index.references[key] = id;
    await this.flush();
    return prev;
  }

  async deleteReference(ref: ImageReference): Promise<boolean> {
    const key = ref.toString();
    if (!(key in this.index.references)) return false;
    delete this.index.references[key];
    await this.flush();
    return true;
  }

  /** Image IDs starting with `prefix` (hex, with or without "sha256:"). */
  search(prefix: string): string[] {
    const hex = prefix.startsWith('sha256:') ? prefix.slice(7) : prefix;
    if (!/^[a-f0-9]+$/.test(hex)) return [];
    return this.ids().filter((id) => id.slice(7).startsWith(hex));
  }

  /**
   * Runs `fn` with its changes written in one index write at the end (or at an earlier `flushNow`), so
   * that e.g. an rmi's untag and delete reach the disk together.
   */
  async batch<T>(fn: () => Promise<T>): Promise<T> {
    this.batching++;
    try {
      return await fn();
    } finally {
      this.batching--;
      if (this.batching === 0 && this.dirty) await this.flushNow();
    }
  }

  /** Writes what a batch changed so far (before acting on it elsewhere, e.g. removing layers). */
  async flushNow(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.write();
  }

  private flush(): Promise<void> {
    this.dirty = true;
    if (this.batching > 0) return Promise.resolve();
    return this.flushNow();
  }

  /** Writes are serialized so that the file always holds a complete, recent state. */
  private write(): Promise<void> {
    const snapshot = JSON.parse(JSON.stringify(this.index)) as IndexFile;
    this.writing = this.writing.catch(() => undefined).then(() => writeJsonAtomic(this.indexPath, snapshot, { crashPoint: 'index-temp' }));
    return this.writing;
  }
}
