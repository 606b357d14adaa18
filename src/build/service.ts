// The builder as the API sees it: a build from an uploaded context, the build cache's listing and pruning.
import * as fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError } from '../errdefs';
import type { ImageSummary } from '../wire/docker';
import { BuildCache } from './cache';
import { BuildContext } from './context';
import { ContextDirectories } from './context-directories';
import { dockerignoreMatcher, parseDockerignore } from './dockerignore';
import { Builder } from './executor';
import type { BuildContainerEngine, BuildImageStore, BuildOptions, BuildOutput, BuilderDeps } from './builder-ports';

/** `docker system df`'s BuildCache items (moby's build.CacheRecord). */
export interface CacheRecord {
  ID: string; Parents: string[] | null; Type: string; Description: string; InUse: boolean; Shared: boolean;
  Size: number; CreatedAt: string; LastUsedAt: string | null; UsageCount: number;
}

export interface PruneReport { CachesDeleted: string[] | null; SpaceReclaimed: number }

/** What the builder needs of the images: the step's store, and listing and removal for the cache's usage and prune. */
export interface BuildServiceImages extends BuildImageStore {
  list(opts: { all: boolean }): Promise<ImageSummary[]>;
  remove(refOrId: string): Promise<{ Untagged?: string; Deleted?: string }[]>;
}

export interface BuildServiceOptions {
  /** The daemon's data root: the cache index, scratch space and kept contexts live in `<root>/builder`. */
  root: string;
  images: BuildServiceImages;
  containers: BuildContainerEngine;
  mounter: BuilderDeps['mounter'];
  fetchBase?: BuilderDeps['fetchBase'];
  meter?: BuilderDeps['meter'];
}

export class BuildService {
  private readonly dir: string;
  private readonly tmpDir: string;
  private readonly cache: BuildCache;
  private readonly builder: Builder;
  private readonly contexts: ContextDirectories;

  constructor(private readonly o: BuildServiceOptions) {
    this.dir = path.join(o.root, 'builder');
    this.tmpDir = path.join(this.dir, 'tmp');
    this.cache = new BuildCache(this.dir);
    this.contexts = new ContextDirectories(path.join(this.dir, 'contexts'));
    this.builder = new Builder({
      images: o.images, containers: o.containers, mounter: o.mounter, cache: this.cache, tmpDir: this.tmpDir, fetchBase: o.fetchBase, meter: o.meter,
    });
  }

  /** Opens the cache index; scratch space a crash left behind is removed (its mounts first). */
  async init(): Promise<void> {
    await this.cache.init();
    await this.contexts.init();
    await this.cleanTmp();
    await fsp.mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  private async cleanTmp(): Promise<void> {
    const names = await fsp.readdir(this.tmpDir).catch(() => [] as string[]);
    for (const n of names) {
      const merged = path.join(this.tmpDir, n, 'merged');
      if (await this.o.mounter.isMountPoint(merged).catch(() => false)) {
        try {
          await this.o.mounter.umount(merged);
        } catch {
          continue; // never remove through a live overlay
        }
      }
      await fsp.rm(path.join(this.tmpDir, n), { recursive: true, force: true });
    }
  }

  /** Unpacks the context and builds; the context directory is given back (kept for the next build, or removed) whatever happens. */
  async build(body: Readable, opts: BuildOptions, out: BuildOutput, signal: AbortSignal): Promise<string> {
    const parseIgnore = (text: string) => dockerignoreMatcher(parseDockerignore(text));
    const ctx = await BuildContext.fromUpload(body, this.contexts, opts.dockerfile, parseIgnore);
    try {
      return await this.builder.build(ctx, opts, out, signal);
    } finally {
      await ctx.close();
    }
  }

  /** The cache entries as `docker system df -v` lists them. */
  async usage(): Promise<CacheRecord[]> {
    const sizes = new Map((await this.o.images.list({ all: true })).map((i) => [i.Id, i]));
    const used = this.usedImages(sizes);
    // BuildKit lists a context it keeps as a `source.local` record; so does Berth for the directories it keeps.
    const contexts: CacheRecord[] = this.contexts.kept().map((k) => ({
      ID: createHash('sha256').update(k.root).digest('hex').slice(0, 25), Parents: null, Type: 'source.local',
      Description: 'local source for context', InUse: false, Shared: false, Size: k.bytes,
      CreatedAt: k.keptAt.toISOString(), LastUsedAt: k.keptAt.toISOString(), UsageCount: 1,
    }));
    return [...contexts, ...this.cache.all().map(([key, e]) => {
      const img = sizes.get(e.image);
      const parent = img?.ParentId ? sizes.get(img.ParentId) : undefined;
      return {
        ID: key.slice(7, 32), Parents: e.parent ? [e.parent] : null, Type: 'regular', Description: e.description,
        InUse: used.has(e.image), Shared: false, Size: Math.max(0, (img?.Size ?? 0) - (parent?.Size ?? 0)),
        CreatedAt: e.createdAt, LastUsedAt: e.lastUsedAt, UsageCount: 1,
      };
    })];
  }

  /** Images a tagged image is built on (or is): the cache entries they back are in use. */
  private usedImages(byId: Map<string, { ParentId: string; RepoTags: string[] }>): Set<string> {
    const used = new Set<string>();
    for (const [id, img] of byId) {
      if (!img.RepoTags.length) continue;
      for (let cur: string | undefined = id; cur && !used.has(cur); cur = byId.get(cur)?.ParentId) used.add(cur);
    }
    return used;
  }

  /**
   * `docker builder prune`: forgets cache entries (all of them with `all`, else those no tagged image is built on)
   * and removes the images only they kept: untagged, without children or containers.
   */
  async prune(all: boolean): Promise<PruneReport> {
    const before = new Map((await this.o.images.list({ all: true })).map((i) => [i.Id, i]));
    const used = this.usedImages(before);
    const dropped = this.cache.all().filter(([, e]) => all || !used.has(e.image));
    this.cache.remove(dropped.map(([k]) => k));
    await this.cache.flush();
    const contextBytes = await this.contexts.clear();
    const deleted: string[] = [];
    let reclaimed = contextBytes;
    const candidates = [...new Set(dropped.map(([, e]) => e.image))];
    for (const id of candidates) {
      const img = before.get(id);
      if (!img || img.RepoTags.length || img.RepoDigests.length) continue;
      try {
        const items = await this.o.images.remove(id.slice(7));
        for (const item of items) {
          if (!item.Deleted?.startsWith('sha256:') || !before.has(item.Deleted)) continue;
          const gone = before.get(item.Deleted)!;
          const parent = gone.ParentId ? before.get(gone.ParentId) : undefined;
          reclaimed += Math.max(0, gone.Size - (parent?.Size ?? 0));
          deleted.push(item.Deleted);
        }
      } catch (err) {
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
      }
    }
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}
