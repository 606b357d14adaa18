// The image use-cases (list, inspect, history, tag, rmi, prune, import, commit, save, load) over the content, layer and image stores.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { HostSpecialFiles, type SpecialFiles } from '../host/special-files';
import { ContentStore, VerifyDigestStream, sha256Digest } from '../image/content-store';
import { changes as overlayChanges, layerTarFromUpper, tarDirectory, type Change } from '../image/diff';
import { ImageStore } from '../image/image-store';
import { LayerStore, chainIdNext, chainIdOf, chainIdsOf, type LayerRecord } from '../image/layer-store';
import {
  ImageReference, familiarMatch, parseAnyReference, repoTagReference, truncateId,
} from '../image/reference';
import { archivePath, assertContainerConfig, readArchive, writeArchive, type SaveImage } from '../image/archive';
import { decompress, unpack } from '../image/unpack';
import { failpoint } from '../store/failpoint';
import { KeyedMutex } from '../util/mutex';
import { COMPAT_DOCKER_VERSION, type ContainerConfig, type HistoryItem, type ImageSummary, type JsonMessage } from '../wire/docker';
import type { HistoryEntry, ImageConfig } from '../wire/oci';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { labelFiltersMatch, labelsMatchAll } from './filters';

/** sha256 of an empty tar (1024 zero bytes): a commit without changes adds no layer (layer.IsEmpty). */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ImageRecord {
  /** The image ID: digest of the config, "sha256:...". */
  id: string;
  config: ImageConfig;
  /** Familiar "repo:tag" references, lexical order. */
  repoTags: string[];
  /** Familiar "repo@sha256:..." references. */
  repoDigests: string[];
  /** ChainID of the top layer; null for an image without layers. */
  topChainId: string | null;
  /** Bytes of all its layers' content. */
  size: number;
  /** The image this one was committed from ("" if none). */
  parent: string;
  /** config.created, "" if absent. */
  created: string;
  lastTagTime: string;
}

/** A container using an image; a bare ID counts as a stopped one. */
export type ContainerUse = string | { id: string; running: boolean };

export interface ImageServiceOptions {
  /** The daemon's data root; everything lives under `<root>/image/`. */
  root: string;
  events: EventBus;
  special?: SpecialFiles;
}

export interface ImageDeleteItem { Untagged?: string; Deleted?: string }

export interface PruneReport { ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }

export interface CommitOptions {
  upperDir: string;
  parent: ImageRecord | null;
  containerId: string;
  containerConfig: ContainerConfig;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes?: string[];
}

/** One build step's commit (see ImageService.commitBuildStep). */
export interface BuildStepCommit {
  /** The image the step ran on; null for `FROM scratch`. */
  parent: { id: string; config: ImageConfig } | null;
  /** The step's changes (an overlay upper dir); absent for a step that changes only the config. */
  upperDir?: string;
  /** The stage's config after the step: the new image's config. */
  config: ContainerConfig;
  /** The history line (Docker's "/bin/sh -c #(nop) ..." form). */
  createdBy: string;
  author?: string;
  /** The image's and the history entry's creation time (RFC 3339). */
  created: string;
  /** Seconds since the epoch: later mtimes in the layer tar are written as this. */
  clampMtime?: number;
  /** Entries of the upper dir to leave out of the layer (runtime mount-point stubs). */
  exclude?: (rel: string, st: fs.Stats) => boolean;
  /** OS and architecture of an image built FROM scratch. */
  platform?: { os: string; architecture: string; variant?: string };
}

export interface ImportOptions {
  /** "name" or "name:tag" (Docker's `repo` query parameter). */
  repo?: string;
  tag?: string;
  /** History comment. */
  message?: string;
  changes?: string[];
  /** Overrides "now" as the creation time (reproducible imports); Docker always uses now. */
  created?: string;
}

export interface ListOptions {
  all?: boolean;
  filters?: Map<string, string[]>;
  sharedSize?: boolean;
}

/** `docker image inspect`'s response (API 1.44+ shape; older versions get the legacy fields added by the route). */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers?: string[] };
  Metadata: { LastTagTime: string };
  Container?: string;
  ContainerConfig?: ContainerConfig | null;
  VirtualSize?: number;
}

export type Lease = Set<string>;

export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[os.arch()] ?? os.arch();
}

export class ImageService {
  readonly root: string;
  private readonly events: EventBus;
  private readonly special: SpecialFiles;
  private readonly content: ContentStore;
  private readonly layers: LayerStore;
  private readonly store: ImageStore;
  private readonly tmpDir: string;
  private readonly mutex = new KeyedMutex();
  /** Digests and ChainIDs in-flight operations hold (refcounted): the sweep never removes them. */
  private readonly leases = new Map<string, number>();
  private usage: (imageId: string) => ContainerUse[] = () => [];
  /** False until the container service answers for its containers: until then no retained image is released. */
  private usageKnown = false;

  constructor(opts: ImageServiceOptions) {
    this.root = path.join(opts.root, 'image');
    this.events = opts.events;
    this.special = opts.special ?? new HostSpecialFiles();
    this.content = new ContentStore(this.root);
    this.layers = new LayerStore(this.root, this.special);
    this.store = new ImageStore(this.root, this.content);
    this.tmpDir = path.join(this.root, 'tmp');
    // The layers of an image removed while a container used it (rmi -f) go with the last such container.
    this.events.subscribe((ev) => {
      if (ev.Type !== 'container' || ev.Action !== 'destroy' || !Object.keys(this.store.retained()).length) return;
      void this.mutex.run('store', () => this.sweep()).catch(() => undefined);
    });
  }

  /** Opens the stores and repairs what a crash left: half-written blobs, layers, temps, images missing parts. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
    await this.content.init();
    await this.layers.init();
    await this.store.init((_id, config) => {
      const diffIds = config.rootfs?.diff_ids ?? [];
      return chainIdsOf(diffIds).every((c) => this.layers.has(c)) && diffIds.every((d) => this.content.has(d));
    });
    await this.sweep();
  }

  /** Who uses an image, for rmi's conflicts (the container service provides it). */
  setUsageProbe(fn: (imageId: string) => ContainerUse[]): void {
    this.usage = fn;
    this.usageKnown = true;
  }

  // ---------- lookup ----------

  /** By name[:tag] (":latest" implied), name@digest, full or unique-prefix ID with or without "sha256:". */
  async resolve(refOrId: string): Promise<ImageRecord> {
    return this.record(this.resolveId(refOrId));
  }

  resolveId(refOrId: string): string {
    const any = parseAnyReference(refOrId);
    if (any.kind === 'id') {
      if (this.store.has(any.id)) return any.id;
      throw new NotFoundError(`No such image: ${any.id}`);
    }
    const named = any.ref;
    const lookupRef = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
    const id = this.store.lookup(lookupRef);
    if (id) return id;
    const matches = this.store.search(refOrId);
    if (matches.length === 1) return matches[0]!;
    throw new NotFoundError(`No such image: ${named.withDefaultTag().familiar()}`);
  }

  has(refOrId: string): boolean {
    try {
      this.resolveId(refOrId);
      return true;
    } catch {
      return false;
    }
  }

  /** The image `refOrId` was committed or built on ("" if none or unknown). */
  parentOf(refOrId: string): string {
    return this.has(refOrId) ? this.store.meta(this.resolveId(refOrId)).parent ?? '' : '';
  }

  private record(id: string): ImageRecord {
    const config = this.store.config(id);
    const meta = this.store.meta(id);
    const top = chainIdOf(config.rootfs?.diff_ids ?? []);
    const refs = this.store.references(id);
    return {
      id,
      config,
      repoTags: refs.filter((r) => r.tag !== undefined && r.digest === undefined).map((r) => r.familiar()),
      repoDigests: refs.filter((r) => r.digest !== undefined).map((r) => r.familiar()),
      topChainId: top,
      size: this.chainSize(top),
      parent: meta.parent ?? '',
      created: config.created ?? '',
      lastTagTime: meta.lastTagTime ?? ZERO_TIME,
    };
  }

  private chainSize(top: string | null): number {
    let size = 0;
    for (const l of this.layers.chain(top)) size += l.size;
    return size;
  }

  /** The image's layer directories, top-most first (overlayfs lowerdir order). */
  lowerDirs(image: { config: ImageConfig }): string[] {
    return this.layers.lowerDirs(chainIdOf(image.config.rootfs?.diff_ids ?? []));
  }

  /** `docker diff` of a container whose upper dir sits on this image. */
  changes(upperDir: string, image: { config: ImageConfig }): Promise<Change[]> {
    return overlayChanges(upperDir, this.lowerDirs(image), this.special);
  }

  /** `docker export`: a tar of a mounted root filesystem. */
  exportRootfs(mergedDir: string): Readable {
    return tarDirectory(mergedDir);
  }

  // ---------- list / inspect / history ----------

  async list(opts: ListOptions = {}): Promise<ImageSummary[]> {
    const filters = opts.filters ?? new Map<string, string[]>();
    for (const key of filters.keys()) {
      if (!['dangling', 'label', 'before', 'since', 'reference', 'until'].includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    }
    let danglingOnly = false;
    const dangling = filters.get('dangling');
    if (dangling?.length) {
      const v = dangling[0]!.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(v)) throw new InvalidParameterError(`invalid filter 'dangling=${dangling[0]}'`);
      danglingOnly = v === 'true' || v === '1';
    }
    const createdOf = (ref: string) => Date.parse(this.store.config(this.resolveId(ref)).created ?? '') || 0;
    const before = filters.get('before')?.map(createdOf);
    const since = filters.get('since')?.map(createdOf);
    const until = filters.get('until')?.map((u) => parseTimestamp(u));
    const layerRefs = new Map<string, number>();
    if (opts.sharedSize) {
      for (const id of this.store.ids()) {
        for (const c of chainIdsOf(this.store.config(id).rootfs?.diff_ids ?? [])) layerRefs.set(c, (layerRefs.get(c) ?? 0) + 1);
      }
    }
    const out: (ImageSummary & { createdMs: number })[] = [];
    for (const id of this.store.ids()) {
      const rec = this.record(id);
      const createdMs = Date.parse(rec.created) || 0;
      if (before && before.some((b) => createdMs >= b)) continue;
      if (since && since.some((s) => createdMs <= s)) continue;
      if (until && until.some((u) => createdMs > u)) continue;
      if (!labelsMatchAll(rec.config.config?.Labels ?? {}, filters.get('label'))) continue;
      let refs = this.store.references(id);
      if (filters.has('reference')) refs = refs.filter((r) => filters.get('reference')!.some((p) => familiarMatch(p, r)));
      const repoTags = refs.filter((r) => r.tag !== undefined && r.digest === undefined).map((r) => r.familiar());
      const repoDigests = refs.filter((r) => r.digest !== undefined).map((r) => r.familiar());
      if (!repoTags.length && !repoDigests.length) {
        if (opts.all || this.store.children(id).length === 0) {
          if (dangling?.length && !danglingOnly) continue;
          if (filters.has('reference')) continue;
        } else continue;
      } else if (danglingOnly && repoTags.length > 0) continue;
      let sharedSize = -1;
      if (opts.sharedSize) {
        sharedSize = 0;
        for (const l of this.layers.chain(rec.topChainId)) if ((layerRefs.get(l.chainId) ?? 0) > 1) sharedSize += l.size;
      }
      out.push({
        // The API shows the count from 1.51 (api/api-versions.ts); -1 when no container service tells.
        Containers: this.usageKnown ? this.usage(id).length : -1,
        Created: Math.floor(createdMs / 1000),
        Id: id,
        Labels: rec.config.config?.Labels ?? null as unknown as Record<string, string>,
        ParentId: rec.parent,
        RepoDigests: repoDigests,
        RepoTags: repoTags,
        SharedSize: sharedSize,
        Size: rec.size,
        createdMs,
      });
    }
    out.sort((a, b) => b.createdMs - a.createdMs || (a.Id < b.Id ? -1 : 1));
    return out.map(({ createdMs: _c, ...s }) => s);
  }

  async inspect(refOrId: string): Promise<ImageInspect> {
    const rec = await this.resolve(refOrId);
    const c = rec.config;
    const chain = this.layers.chain(rec.topChainId);
    let data: Record<string, string> | null = null;
    if (chain.length) {
      const top = chain[0]!;
      data = {};
      if (chain.length > 1) data.LowerDir = chain.slice(1).map((l) => this.layers.diffDir(l.chainId)).join(':');
      data.MergedDir = path.join(this.layers.dir(top.chainId), 'merged');
      data.UpperDir = this.layers.diffDir(top.chainId);
      data.WorkDir = path.join(this.layers.dir(top.chainId), 'work');
    }
    const out: ImageInspect = {
      Id: rec.id,
      RepoTags: rec.repoTags,
      RepoDigests: rec.repoDigests,
      Parent: rec.parent,
      Comment: c.comment ?? '',
      Created: c.created ?? '',
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: c.config ? dockerContainerConfig(c.config) : null,
      Architecture: c.architecture ?? '',
      Os: c.os ?? '',
      Size: rec.size,
      GraphDriver: { Data: data, Name: 'overlay2' },
      RootFS: { Type: c.rootfs?.type ?? 'layers', Layers: c.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: rec.lastTagTime },
      Container: c.container ?? '',
      ContainerConfig: c.container_config ? dockerContainerConfig(c.container_config) : dockerContainerConfig({}),
      VirtualSize: rec.size,
    };
    if (c.variant) out.Variant = c.variant;
    return out;
  }

  /** `docker history`: newest first, image IDs along the parent chain, "<missing>" elsewhere. */
  async history(refOrId: string): Promise<HistoryItem[]> {
    const rec = await this.resolve(refOrId);
    const diffIds = rec.config.rootfs?.diff_ids ?? [];
    const items: HistoryItem[] = [];
    let layerCounter = 0;
    let chain: string | null = null;
    const entries: HistoryEntry[] = rec.config.history?.length ? rec.config.history : diffIds.map(() => ({}));
    for (const h of entries) {
      let size = 0;
      if (!h.empty_layer) {
        if (layerCounter >= diffIds.length) throw new SystemError('too many non-empty layers in History section');
        chain = chainIdNext(chain, diffIds[layerCounter]!);
        size = this.layers.has(chain) ? this.layers.get(chain).size : 0;
        layerCounter++;
      }
      items.unshift({
        Comment: h.comment ?? '',
        Created: h.created ? Math.floor((Date.parse(h.created) || 0) / 1000) : 0,
        CreatedBy: h.created_by ?? '',
        Id: '<missing>',
        Size: size,
        Tags: null,
      });
    }
    // Docker walks the Parent chain: the top entry is the image, the next its parent, and so on.
    let id: string | undefined = rec.id;
    for (const item of items) {
      if (!id || !this.store.has(id)) break;
      item.Id = id;
      const tags = this.store.references(id).filter((r) => r.tag !== undefined && r.digest === undefined).map((r) => r.familiar());
      item.Tags = tags.length ? tags : null;
      id = this.store.meta(id).parent;
    }
    return items;
  }

  // ---------- tag / remove / prune ----------

  async tag(source: string, repo: string, tag: string): Promise<void> {
    const ref = repoTagReference(repo, tag);
    await this.mutex.run('store', async () => {
      const id = this.resolveId(source);
      await this.store.setReference(ref, id, new Date().toISOString());
      this.event('tag', id, ref.familiar());
    });
  }

  /** `docker rmi`: untags by name, deletes by ID or when the last tag goes; Docker's conflict rules. */
  async remove(refOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.mutex.run('store', () => this.store.batch(() => this.removeLocked(refOrId, !!opts.force, !opts.noprune)));
  }

  private async removeLocked(imageRef: string, force: boolean, prune: boolean): Promise<ImageDeleteItem[]> {
    const imgId = this.resolveId(imageRef);
    const records: ImageDeleteItem[] = [];
    let repoRefs = this.store.references(imgId);
    let removedRepositoryRef = false;
    if (!isImageIdPrefix(imgId, imageRef)) {
      if (!force && isSingleReference(repoRefs)) {
        const user = this.users(imgId)[0];
        if (user) {
          throw new ConflictError(`conflict: unable to remove repository reference ${JSON.stringify(imageRef)} (must force) - container ${truncateId(user.id)} is using its referenced image ${truncateId(imgId)}`);
        }
      }
      const any = parseAnyReference(imageRef);
      const parsed = any.kind === 'named' ? (any.ref.digest !== undefined ? any.ref.nameOnly().withDigest(any.ref.digest) : any.ref.withDefaultTag()) : undefined;
      if (parsed && (await this.store.deleteReference(parsed))) {
        records.push({ Untagged: parsed.familiar() });
        this.event('untag', imgId, imgId);
      }
      repoRefs = this.store.references(imgId);
      if (parsed && parsed.digest === undefined) {
        const sameRepoTag = repoRefs.some((r) => r.digest === undefined && r.name === parsed.name);
        if (!sameRepoTag) {
          const remaining: ImageReference[] = [];
          for (const r of repoRefs) {
            if (r.digest !== undefined && r.name === parsed.name) {
              await this.store.deleteReference(r);
              records.push({ Untagged: r.familiar() });
            } else remaining.push(r);
          }
          repoRefs = remaining;
        }
      }
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const conflict = this.deleteConflict(imgId, force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE));
      if (conflict) throw conflict.error();
      for (const r of repoRefs) {
        await this.store.deleteReference(r);
        records.push({ Untagged: r.familiar() });
        this.event('untag', imgId, imgId);
      }
    }
    await this.deleteHelper(imgId, records, force, prune, removedRepositoryRef);
    return records;
  }

  private async deleteHelper(imgId: string, records: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const conflict = this.deleteConflict(imgId, force ? HARD : HARD | SOFT);
    if (conflict) {
      const dangling = this.store.references(imgId).length === 0 && this.store.children(imgId).length === 0;
      if (quiet && (!dangling || conflict.used)) return;
      throw conflict.error();
    }
    const parent = this.store.meta(imgId).parent;
    for (const r of this.store.references(imgId)) {
      await this.store.deleteReference(r);
      records.push({ Untagged: r.familiar() });
      this.event('untag', imgId, imgId);
    }
    const config = this.store.config(imgId);
    const top = chainIdOf(config.rootfs?.diff_ids ?? []);
    const labels = config.config?.Labels ?? {};
    const stillUsed = this.users(imgId).length > 0;
    await this.store.delete(imgId, stillUsed ? top : undefined);
    this.events.publish('image', 'delete', imgId, { ...labels, name: imgId });
    records.push({ Deleted: imgId });
    // The untag and the delete reach the disk together, before any layer goes.
    await this.store.flushNow();
    failpoint('rmi-deleted');
    const removed = await this.sweep();
    for (const l of topFirst(removed)) records.push({ Deleted: l.chainId });
    if (!prune || !parent || !this.store.has(parent)) return;
    await this.deleteHelper(parent, records, false, true, true);
  }

  private users(imageId: string): { id: string; running: boolean }[] {
    return this.usage(imageId).map((u) => (typeof u === 'string' ? { id: u, running: false } : u));
  }

  private deleteConflict(imgId: string, mask: number): { used: boolean; error(): ConflictError } | null {
    const make = (hard: boolean, used: boolean, message: string) => ({
      used,
      error: () => new ConflictError(`conflict: unable to delete ${truncateId(imgId)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`),
    });
    if (mask & DEPENDENT_CHILD && this.store.children(imgId).length > 0) return make(true, false, 'image has dependent child images');
    const users = this.users(imgId);
    if (mask & RUNNING_CONTAINER) {
      const running = users.find((u) => u.running);
      if (running) return make(true, true, `image is being used by running container ${truncateId(running.id)}`);
    }
    if (mask & ACTIVE_REFERENCE && this.store.references(imgId).length > 0) return make(false, false, 'image is referenced in multiple repositories');
    if (mask & STOPPED_CONTAINER) {
      const stopped = users.find((u) => !u.running);
      if (stopped) return make(false, true, `image is being used by stopped container ${truncateId(stopped.id)}`);
    }
    return null;
  }

  /** `docker image prune`: dangling images by default, unused ones with `dangling=false` (-a). */
  async prune(filters: Map<string, string[]> = new Map()): Promise<PruneReport> {
    for (const key of filters.keys()) {
      if (!['dangling', 'label', 'label!', 'until'].includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    }
    const d = filters.get('dangling')?.[0];
    const danglingOnly = d === undefined ? true : ['true', '1'].includes(d.toLowerCase());
    if (d !== undefined && !['true', 'false', '1', '0'].includes(d.toLowerCase())) throw new InvalidParameterError(`invalid filter 'dangling=${d}'`);
    const until = filters.get('until')?.map((u) => parseTimestamp(u));
    const report = await this.mutex.run('store', async () => {
      const sizes = new Map(this.layers.list().map((l) => [l.chainId, l.size]));
      const deleted: ImageDeleteItem[] = [];
      const candidates = this.store.ids().filter((id) => !danglingOnly || this.store.children(id).length === 0);
      for (const id of candidates) {
        if (!this.store.has(id)) continue;
        if (this.store.references(id).length === 0 && this.store.children(id).length !== 0) continue;
        const cfg = this.store.config(id);
        const created = Date.parse(cfg.created ?? '') || 0;
        if (until && until.some((u) => created > u)) continue;
        const labels = cfg.config?.Labels ?? {};
        if (!labelFiltersMatch(labels, filters)) continue;
        const refs = this.store.references(id);
        if (refs.length) {
          const shouldDelete = !danglingOnly || !refs.some((r) => r.tag !== undefined && r.digest === undefined);
          if (!shouldDelete) continue;
          for (const r of refs) {
            try {
              deleted.push(...(await this.store.batch(() => this.removeLocked(r.toString(), false, true))));
            } catch (err) {
              if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
            }
          }
        } else {
          try {
            deleted.push(...(await this.store.batch(() => this.removeLocked(id.slice(7), false, true))));
          } catch (err) {
            if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
          }
        }
      }
      // Also what nothing holds any more without an image being deleted now (a failed import's blob...).
      for (const l of topFirst(await this.sweep())) deleted.push({ Deleted: l.chainId });
      let reclaimed = 0;
      for (const item of deleted) if (item.Deleted && sizes.has(item.Deleted)) reclaimed += sizes.get(item.Deleted)!;
      return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    });
    this.events.publish('image', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  }

  // ---------- import / commit ----------

  /** `docker import`: a rootfs tarball (plain or gzip) becomes a one-layer image. */
  async importImage(body: Readable, opts: ImportOptions = {}): Promise<string> {
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag ?? '') : undefined;
    const cfg = applyChanges({}, opts.changes ?? []);
    // Docker records where an import came from when no message is given ("Imported from -" for a body).
    const message = opts.message || 'Imported from -';
    const lease: Lease = new Set();
    let failed = true;
    try {
      const layer = await this.addLayer(null, body, lease);
      failpoint('import-layer');
      const created = opts.created ?? new Date().toISOString();
      const config: ImageConfig = {
        architecture: hostArchitecture(),
        comment: message,
        config: dockerContainerConfig(cfg),
        created,
        docker_version: COMPAT_DOCKER_VERSION,
        history: [{ created, comment: message }],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      };
      const { id } = await this.addImage(config, lease, { refs: ref ? [ref] : [] });
      failpoint('import-done');
      if (ref) this.event('tag', id, ref.familiar());
      this.event('import', id, id);
      failed = false;
      return id;
    } finally {
      await this.finish(lease, failed);
    }
  }

  /** `docker commit`: the container's changes become one layer on top of its image. */
  async commit(opts: CommitOptions): Promise<string> {
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag ?? '') : undefined;
    assertContainerConfig(opts.containerConfig, 'invalid commit config');
    const config = applyChanges(opts.containerConfig, opts.changes ?? []);
    const createdBy = (opts.containerConfig.Cmd ?? []).join(' ');
    const id = await this.commitImage({
      parent: opts.parent,
      layer: () => layerTarFromUpper(opts.upperDir, this.special),
      config,
      created: new Date().toISOString(),
      history: { ...(opts.author ? { author: opts.author } : {}), ...(createdBy ? { created_by: createdBy } : {}), ...(opts.comment ? { comment: opts.comment } : {}) },
      author: opts.author,
      comment: opts.comment,
      container: opts.containerId,
      refs: ref ? [ref] : [],
    });
    if (ref) this.event('tag', id, ref.familiar());
    return id;
  }

  /**
   * One step of a build (moby's CommitBuildStep/CreateImage): the step's changes, if any, become a layer on
   * top of the parent and the stage's config the new image's config, recorded as an untagged child of the
   * parent. Nothing of the build host is written (no container ID, no container config), and with
   * `clampMtime` the layer's mtimes are clamped, so the same inputs give the same image ID.
   */
  async commitBuildStep(o: BuildStepCommit): Promise<string> {
    assertContainerConfig(o.config, 'invalid build step config');
    const upper = o.upperDir;
    return this.commitImage({
      parent: o.parent,
      layer: upper === undefined ? undefined : () => layerTarFromUpper(upper, this.special, { clampMtime: o.clampMtime, exclude: o.exclude }),
      config: o.config,
      created: o.created,
      history: { ...(o.author ? { author: o.author } : {}), created_by: o.createdBy },
      author: o.author,
      platform: o.platform,
      refs: [],
    });
  }

  /** The shared end of commit and build steps: the layer stored (unless empty), the config written, the image recorded. */
  private async commitImage(o: {
    parent: { id: string; config: ImageConfig } | null; layer?: () => Promise<Readable>; config: ContainerConfig; created: string;
    history: HistoryEntry; author?: string; comment?: string; container?: string; refs: ImageReference[];
    platform?: { os: string; architecture: string; variant?: string };
  }): Promise<string> {
    const lease: Lease = new Set();
    let sweepAfter = true;
    try {
      const parentConfig = o.parent?.config;
      const parentDiffIds = parentConfig?.rootfs?.diff_ids ?? [];
      const parentTop = chainIdOf(parentDiffIds);
      await this.mutex.run('store', async () => {
        if (parentTop !== null && !this.layers.has(parentTop)) throw new NotFoundError(`parent layer ${parentTop} does not exist`);
        for (const c of chainIdsOf(parentDiffIds)) this.take(lease, c);
      });
      let empty = true;
      let diffId = '';
      if (o.layer) {
        const layer = await this.addLayer(parentTop, await o.layer(), lease);
        failpoint('commit-layer');
        diffId = layer.diffId;
        // An empty diff adds no layer: the one just stored for it is swept when the commit ends.
        empty = diffId === EMPTY_LAYER_DIFF_ID;
      }
      const history: HistoryEntry = { created: o.created, ...o.history };
      if (empty) history.empty_layer = true;
      const variant = parentConfig ? parentConfig.variant : o.platform?.variant;
      const image: ImageConfig = {
        architecture: parentConfig?.architecture ?? o.platform?.architecture ?? hostArchitecture(),
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        config: dockerContainerConfig(o.config),
        ...(o.container ? { container: o.container } : {}),
        created: o.created,
        docker_version: COMPAT_DOCKER_VERSION,
        history: [...(parentConfig?.history ?? []), history],
        os: parentConfig?.os ?? o.platform?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: empty ? parentDiffIds : [...parentDiffIds, diffId] },
        ...(variant ? { variant } : {}),
      };
      const { id } = await this.addImage(image, lease, { parent: o.parent?.id, refs: o.refs });
      failpoint('commit-done');
      sweepAfter = empty && o.layer !== undefined;
      return id;
    } finally {
      await this.finish(lease, sweepAfter);
    }
  }

  // ---------- save / load ----------

  /**
   * `docker save`: a docker-archive as Docker 25+ writes it (see image/archive.ts). Names are resolved
   * before the stream starts, so a missing image fails the request cleanly.
   */
  async save(names: string[]): Promise<Readable> {
    if (!names.length) throw new InvalidParameterError('no images specified');
    const order: string[] = [];
    const refsOf = new Map<string, ImageReference[]>();
    const add = (id: string, ref?: ImageReference) => {
      if (!refsOf.has(id)) { refsOf.set(id, []); order.push(id); }
      if (ref && !refsOf.get(id)!.some((r) => r.toString() === ref.toString())) refsOf.get(id)!.push(ref);
    };
    for (const name of names) {
      const any = parseAnyReference(name);
      if (any.kind === 'id') { add(this.resolveId(name)); continue; }
      const named = any.ref;
      if (named.isNameOnly) {
        const tagged = this.store.referencesByName(named.name).filter((e) => e.ref.tag !== undefined && e.ref.digest === undefined);
        if (tagged.length) { for (const e of tagged) add(e.id, e.ref); continue; }
      }
      const id = this.resolveId(name);
      const lookup = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
      add(id, this.store.lookup(lookup) === id ? lookup : undefined);
    }
    const lease: Lease = new Set();
    const images: SaveImage[] = [];
    try {
      await this.mutex.run('store', async () => {
        for (const id of order) {
          const diffIds = this.store.config(id).rootfs?.diff_ids ?? [];
          this.take(lease, id);
          for (const d of diffIds) this.take(lease, d);
          const layers = [];
          for (const d of diffIds) layers.push({ diffId: d, size: (await this.content.info(d)).size });
          images.push({ id, configSize: (await this.content.info(id)).size, layers, refs: refsOf.get(id)! });
        }
      });
    } catch (err) {
      this.release(lease);
      throw err;
    }
    return writeArchive(images, (digest) => this.content.path(digest), (err) => {
      this.release(lease);
      if (!err) for (const id of order) this.event('save', id, id);
    });
  }

  /**
   * `docker load`: a docker-archive (legacy `<id>/layer.tar` layout or Docker 25+'s blobs/ layout) or an
   * OCI image layout. The archive is unpacked (refusing escapes) into a private staging directory first;
   * each image and its names are recorded in one write, so a crash never leaves a half-loaded image.
   */
  async load(body: Readable, progress: (msg: JsonMessage) => void): Promise<string[]> {
    const staging = path.join(this.tmpDir, `load-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(staging, { recursive: true, mode: 0o700 });
    const lease: Lease = new Set();
    const loaded: string[] = [];
    let failed = true;
    try {
      await unpack(body, staging, { special: this.special, mode: 'archive' });
      failpoint('load-staged');
      const images = await readArchive(staging, hostArchitecture());
      for (const img of images) {
        const id = sha256Digest(img.configBytes);
        const config = img.config;
        const diffIds = config.rootfs.diff_ids;
        if (diffIds.length !== img.layers.length) {
          throw new InvalidParameterError(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${img.layers.length}`);
        }
        let parent: string | null = null;
        for (let i = 0; i < diffIds.length; i++) {
          const expected = diffIds[i]!;
          const chain = chainIdNext(parent, expected);
          const l = img.layers[i]!;
          const file = await archivePath(staging, l.file);
          let source: Readable = fs.createReadStream(file);
          if (l.digest) source = source.pipe(new VerifyDigestStream(l.digest, `layer ${l.file}`));
          try {
            await this.addLayer(parent, source, lease, expected, l.digest);
          } catch (err) {
            const m = /digest mismatch: expected (\S+), got (\S+)/.exec(errorMessage(err));
            if (m && !/^layer /.test(errorMessage(err))) throw new InvalidParameterError(`invalid diffID for layer ${i}: expected "${m[1]}", got "${m[2]}"`);
            throw err;
          }
          failpoint('load-layer');
          parent = chain;
        }
        const { previous } = await this.addImage(config, lease, { configBytes: img.configBytes, refs: img.names });
        for (const [i, ref] of img.names.entries()) {
          const prev = previous[i];
          if (prev && prev !== id) {
            progress({ stream: `The image ${ref.familiar()} already exists, renaming the old one with ID ${prev} to empty string\n` });
          }
        }
        if (!img.names.length) progress({ stream: `Loaded image ID: ${id}\n` });
        for (const ref of img.names) progress({ stream: `Loaded image: ${ref.familiar()}\n` });
        this.event('load', id, id);
        loaded.push(id);
      }
      failed = false;
      return loaded;
    } finally {
      await this.finish(lease, failed);
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }

  // ---------- registry pull and push (engine/distribution.ts drives them) ----------

  /** A set of digests and ChainIDs an operation holds: the sweep leaves them alone until endLease(). */
  beginLease(): Lease {
    return new Set();
  }

  /** Releases a lease; after a failure, sweeps what only the failed operation held. */
  endLease(lease: Lease, failed: boolean): Promise<void> {
    return this.finish(lease, failed);
  }

  /** Whether the layer `diffId` on top of `parent` is unpacked and its tar kept (a pull skips it: "Already exists"). */
  hasLayer(parent: string | null, diffId: string): boolean {
    return this.layers.has(chainIdNext(parent, diffId)) && this.content.has(diffId);
  }

  /** Stores a pulled layer blob (gzip or plain tar), refusing content whose uncompressed digest is not `diffId`. */
  async storeLayer(lease: Lease, parent: string | null, blob: Readable, diffId: string, compressedDigest: string): Promise<void> {
    await this.addLayer(parent, blob, lease, diffId, compressedDigest);
  }

  /** Records a pulled image (its layers stored under `lease`) with its references in one write. */
  async storeImage(lease: Lease, configBytes: Buffer, refs: ImageReference[]): Promise<{ id: string; previous: (string | undefined)[] }> {
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (err) {
      throw new InvalidParameterError(`invalid image config: ${errorMessage(err)}`);
    }
    const out = await this.addImage(config, lease, { configBytes, refs });
    for (const ref of refs) if (ref.digest === undefined) this.event('tag', out.id, ref.familiar());
    this.event('pull', out.id, refs[0]?.familiar() ?? out.id);
    return out;
  }

  /** For a push: leases an image's config and layer tars so no rmi removes them mid-push; returns the config's bytes. */
  async leaseImage(lease: Lease, id: string): Promise<Buffer> {
    return this.mutex.run('store', async () => {
      const diffIds = this.store.config(id).rootfs?.diff_ids ?? [];
      this.take(lease, id);
      for (const d of diffIds) this.take(lease, d);
      return this.content.readBlob(id);
    });
  }

  /** A leased layer tar, uncompressed, with its length. */
  async layerTar(diffId: string): Promise<{ size: number; open: () => Readable }> {
    const info = await this.content.info(diffId);
    return { size: info.size, open: () => this.content.reader(diffId) };
  }

  /** Points references at an image (the repo@digest a push or pull by digest records). */
  async addReferences(id: string, refs: ImageReference[]): Promise<void> {
    await this.mutex.run('store', async () => {
      if (!this.store.has(id)) return;
      for (const ref of refs) await this.store.setReference(ref, id);
    });
  }

  /** Where partly downloaded blobs wait for a resumed pull: inside the content store's ingest, kept across restarts. */
  get partialDir(): string {
    return this.content.partialDir;
  }

  private puller: ((ref: string, progress: (msg: JsonMessage) => void) => Promise<string>) | undefined;

  /** The daemon wires the registry pull in here; the builder's FROM may pull through it. */
  setPuller(fn: (ref: string, progress: (msg: JsonMessage) => void) => Promise<string>): void {
    this.puller = fn;
  }

  /** Pulls `ref` from its registry (anonymously) and resolves to the image ID. */
  async pull(ref: string, progress: (msg: JsonMessage) => void = () => undefined): Promise<string> {
    if (!this.puller) throw new NotFoundError(`pull access denied for ${ref}: no registry client is configured`);
    return this.puller(ref, progress);
  }

  // ---------- internals ----------

  private take(lease: Lease, key: string): void {
    if (lease.has(key)) return;
    lease.add(key);
    this.leases.set(key, (this.leases.get(key) ?? 0) + 1);
  }

  private release(lease: Lease): void {
    for (const key of lease) {
      const n = (this.leases.get(key) ?? 1) - 1;
      if (n <= 0) this.leases.delete(key);
      else this.leases.set(key, n);
    }
    lease.clear();
  }

  /**
   * Stores a layer tar (any compression) as blob + unpacked layer on top of `parent`, reusing what exists.
   * Commits happen under the store lock with a lease taken, so a concurrent rmi cannot sweep them away.
   */
  private async addLayer(parent: string | null, tarStream: Readable, lease: Lease, expectedDiffId?: string, compressedDigest?: string): Promise<LayerRecord> {
    if (expectedDiffId !== undefined) {
      const chain = chainIdNext(parent, expectedDiffId);
      const reused = await this.mutex.run('store', async () => {
        if (this.layers.has(chain) && this.content.has(expectedDiffId)) {
          this.take(lease, chain);
          this.take(lease, expectedDiffId);
          return this.layers.get(chain);
        }
        return undefined;
      });
      if (reused) {
        tarStream.destroy();
        return reused;
      }
    }
    const pending = await this.content.ingest(await decompress(tarStream), expectedDiffId);
    const diffId = pending.digest;
    const chainId = chainIdNext(parent, diffId);
    const existing = await this.mutex.run('store', async () => {
      await pending.commit();
      this.take(lease, diffId);
      if (parent !== null && !this.layers.has(parent)) throw new NotFoundError(`parent layer ${parent} does not exist`);
      if (this.layers.has(chainId)) {
        this.take(lease, chainId);
        return this.layers.get(chainId);
      }
      return undefined;
    });
    if (existing) return existing;
    const prepared = await this.layers.prepare(this.content.reader(diffId), parent, { expectedDiffId: diffId, compressedDigest });
    return this.mutex.run('store', async () => {
      const rec = await prepared.commit();
      this.take(lease, rec.chainId);
      return rec;
    });
  }

  /**
   * Writes the config blob and records the image with its references in one index write, so a crash
   * leaves either nothing or the whole image, named (its layers are leased by the caller). `previous`
   * lists the images the references pointed at before.
   */
  private async addImage(config: ImageConfig, lease: Lease, opts: { parent?: string; configBytes?: Buffer; refs?: ImageReference[] } = {}): Promise<{ id: string; previous: (string | undefined)[] }> {
    const bytes = opts.configBytes ?? Buffer.from(canonicalConfigJson(config));
    const pending = await this.content.ingest(Readable.from([bytes]));
    const id = pending.digest;
    return this.mutex.run('store', async () => {
      await pending.commit();
      this.take(lease, id);
      failpoint('image-config');
      const diffIds = config.rootfs?.diff_ids ?? [];
      for (const c of chainIdsOf(diffIds)) if (!this.layers.has(c)) throw new SystemError(`layer ${c} of image ${id} is missing`);
      const parent = opts.parent && this.store.has(opts.parent) ? opts.parent : undefined;
      const previous = await this.store.add(id, config, parent ? { parent } : {}, opts.refs ?? [], new Date().toISOString());
      return { id, previous };
    });
  }

  /**
   * Ends an import, load or commit: releases its lease and, when it failed (or stored something it did
   * not use), sweeps what nothing else uses: the blob of a refused tar must not wait for the next rmi.
   */
  private async finish(lease: Lease, sweep: boolean): Promise<void> {
    this.release(lease);
    if (sweep) await this.mutex.run('store', () => this.sweep()).catch(() => undefined);
  }

  /**
   * Removes layers and blobs no image (nor a container of a force-removed image, nor an in-flight
   * operation) references. Returns the removed layers. Called with the store lock held (or at init).
   */
  private async sweep(): Promise<LayerRecord[]> {
    const liveChains = new Set<string>();
    const liveBlobs = new Set<string>();
    for (const id of this.store.ids()) {
      liveBlobs.add(id);
      for (const c of chainIdsOf(this.store.config(id).rootfs?.diff_ids ?? [])) liveChains.add(c);
    }
    const released: string[] = [];
    for (const [id, top] of Object.entries(this.store.retained())) {
      if (this.usageKnown && this.users(id).length === 0) { released.push(id); continue; }
      for (let c = top; c !== null && this.layers.has(c); c = this.layers.get(c).parent) liveChains.add(c);
    }
    await this.store.release(released);
    for (const key of this.leases.keys()) liveChains.add(key);
    const removed: LayerRecord[] = [];
    for (const l of this.layers.list()) {
      if (liveChains.has(l.chainId)) continue;
      removed.push(l);
    }
    for (const l of removed) await this.layers.remove(l.chainId);
    for (const l of this.layers.list()) liveBlobs.add(l.diffId);
    for (const key of this.leases.keys()) liveBlobs.add(key);
    for (const digest of await this.content.list()) {
      if (liveBlobs.has(digest)) continue;
      failpoint('sweep-blob');
      await this.content.delete(digest);
    }
    return removed;
  }

  private event(action: string, id: string, name: string): void {
    const labels = this.store.has(id) ? (this.store.config(id).config?.Labels ?? {}) : {};
    this.events.publish('image', action, id, { ...labels, name });
  }
}

// ---------- helpers ----------

const DEPENDENT_CHILD = 1;
const RUNNING_CONTAINER = 2;
const ACTIVE_REFERENCE = 4;
const STOPPED_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

/** Layers ordered so that each comes before its parent (the order Docker reports removed layers in). */
function topFirst(layers: LayerRecord[]): LayerRecord[] {
  const byId = new Map(layers.map((l) => [l.chainId, l]));
  const depth = (l: LayerRecord): number => {
    let d = 0;
    for (let p = l.parent; p !== null && byId.has(p); p = byId.get(p)!.parent) d++;
    return d;
  };
  return [...layers].sort((a, b) => depth(b) - depth(a));
}

function isImageIdPrefix(imageId: string, possiblePrefix: string): boolean {
  if (imageId.startsWith(possiblePrefix)) return true;
  const i = imageId.indexOf(':');
  return i >= 0 && imageId.slice(i + 1).startsWith(possiblePrefix);
}

/** At most one tag reference, and all references within one repository (moby's isSingleReference). */
function isSingleReference(refs: ImageReference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageReference | undefined;
  const names = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) names.add(r.name);
    else if (!single) { names.add(r.name); single = r; }
    else return false;
  }
  single ??= refs[0]!;
  return names.size === 1 && names.has(single.name);
}

/** Docker's filter timestamps: RFC 3339 dates, Unix seconds ("1500000000.5"), or Go durations before now ("24h"). */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const dur = /^(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns))+$/.test(value);
  if (dur) {
    let ms = 0;
    const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * unit[m[2]!]!;
    return now - ms;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
  return t;
}

/** Top-level keys sorted, as Docker's image.Image MarshalJSON writes them (so IDs are stable). */
function canonicalConfigJson(config: ImageConfig): string {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const v = (config as unknown as Record<string, unknown>)[key];
    if (v !== undefined) sorted[key] = v;
  }
  return JSON.stringify(sorted);
}

/** A container config in Docker's field order with the fields it always writes (container.Config). */
export function dockerContainerConfig(c: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  out.Tty = c.Tty ?? false;
  out.OpenStdin = c.OpenStdin ?? false;
  out.StdinOnce = c.StdinOnce ?? false;
  out.Env = c.Env?.length ? c.Env : null;
  out.Cmd = c.Cmd ?? null;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = c.ArgsEscaped;
  out.Image = c.Image ?? '';
  out.Volumes = c.Volumes && Object.keys(c.Volumes).length ? c.Volumes : null;
  out.WorkingDir = c.WorkingDir ?? '';
  out.Entrypoint = c.Entrypoint ?? null;
  if (c.NetworkDisabled) out.NetworkDisabled = c.NetworkDisabled;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  out.OnBuild = c.OnBuild?.length ? c.OnBuild : null;
  out.Labels = c.Labels && Object.keys(c.Labels).length ? c.Labels : null;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell?.length) out.Shell = c.Shell;
  return out;
}

// ---------- Dockerfile instructions for --change ----------

const VALID_CHANGE_COMMANDS = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** Splits Dockerfile words: quotes removed, backslash escapes, $VAR / ${VAR} expanded from `env`. */
function shellWords(text: string, env: Map<string, string>, expand = true): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const expandVar = (): string => {
    i++;
    if (text[i] === '{') {
      const end = text.indexOf('}', i);
      if (end === -1) throw new InvalidParameterError(`missing '}' in ${JSON.stringify(text)}`);
      const inner = text.slice(i + 1, end);
      i = end + 1;
      const m = /^(\w+)(?::([-+])(.*))?$/.exec(inner);
      if (!m) throw new InvalidParameterError(`bad substitution in ${JSON.stringify(text)}`);
      const v = env.get(m[1]!);
      if (m[2] === '-') return v ? v : m[3]!;
      if (m[2] === '+') return v ? m[3]! : '';
      return v ?? '';
    }
    const m = /^\w+/.exec(text.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
    } else if (c === "'") {
      inWord = true;
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new InvalidParameterError(`unexpected end of statement while looking for matching single-quote`);
      cur += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$'.includes(text[i + 1]!)) { cur += text[i + 1]; i += 2; }
        else if (text[i] === '$' && expand) cur += expandVar();
        else { cur += text[i]; i++; }
      }
      if (i >= text.length) throw new InvalidParameterError(`unexpected end of statement while looking for matching double-quote`);
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      inWord = true;
      cur += text[i + 1];
      i += 2;
    } else if (c === '$' && expand) {
      inWord = true;
      cur += expandVar();
    } else {
      inWord = true;
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function jsonArray(rest: string): string[] | null {
  if (!rest.startsWith('[')) return null;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // shell form
  }
  return null;
}

function keyValues(command: string, rest: string, env: Map<string, string>): [string, string][] {
  const words = shellWords(rest, env);
  if (!words.length) throw new InvalidParameterError(`${command} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy form: KEY value with spaces.
    const m = /^(\S+)\s+(.*)$/s.exec(rest.trim());
    if (!m) throw new InvalidParameterError(`${command} must have two arguments`);
    return [[shellWords(m[1]!, env)[0]!, shellWords(m[2]!, env).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidParameterError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies Dockerfile instructions (docker commit/import --change) to a container config, as BuildFromConfig. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = JSON.parse(JSON.stringify(base)) as ContainerConfig;
  const lines: string[] = [];
  let pending = '';
  for (const raw of changes.join('\n').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!pending && (/^\s*#/.test(line) || !line.trim())) continue;
    if (/\\\s*$/.test(line)) { pending += line.replace(/\\\s*$/, ''); continue; }
    lines.push(pending + line);
    pending = '';
  }
  if (pending.trim()) lines.push(pending);
  let cmdSet = false;
  const envMap = () => new Map((c.Env ?? []).map((e) => { const i = e.indexOf('='); return i === -1 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; }));
  const shell = () => (c.Shell?.length ? c.Shell : ['/bin/sh', '-c']);
  for (const line of lines) {
    const m = /^\s*(\S+)\s*(.*)$/s.exec(line)!;
    const command = m[1]!.toLowerCase();
    const rest = m[2]!.trim();
    if (!VALID_CHANGE_COMMANDS.has(command)) throw new InvalidParameterError(`${command} is not a valid change command`);
    switch (command) {
      case 'cmd': {
        c.Cmd = jsonArray(rest) ?? [...shell(), rest];
        cmdSet = true;
        break;
      }
      case 'entrypoint': {
        const arr = jsonArray(rest);
        c.Entrypoint = arr ?? (rest ? [...shell(), rest] : null);
        if (!cmdSet) c.Cmd = null;
        break;
      }
      case 'env': {
        for (const [k, v] of keyValues('ENV', rest, envMap())) {
          const env = (c.Env ?? []).filter((e) => e.split('=')[0] !== k);
          env.push(`${k}=${v}`);
          c.Env = env;
        }
        break;
      }
      case 'label': {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of keyValues('LABEL', rest, envMap())) c.Labels[k] = v;
        break;
      }
      case 'expose': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const spec of shellWords(rest, envMap())) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
          if (!pm) throw new InvalidParameterError(`invalid containerPort: ${spec}`);
          const lo = Number(pm[1]);
          const hi = pm[2] ? Number(pm[2]) : lo;
          if (hi < lo || hi > 65535) throw new InvalidParameterError(`invalid range specified for container port: ${spec}`);
          for (let p = lo; p <= hi; p++) ports[`${p}/${(pm[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'onbuild': {
        const trigger = /^(\S+)/.exec(rest)?.[1]?.toUpperCase();
        if (!trigger) throw new InvalidParameterError('ONBUILD requires at least one argument');
        if (trigger === 'ONBUILD') throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new InvalidParameterError(`${trigger} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      }
      case 'stopsignal':
        c.StopSignal = shellWords(rest, envMap())[0] ?? '';
        break;
      case 'user':
        c.User = shellWords(rest, envMap()).join(' ');
        break;
      case 'volume': {
        const vols = jsonArray(rest) ?? shellWords(rest, envMap());
        if (!vols.length) throw new InvalidParameterError('VOLUME requires at least one argument');
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) {
          if (!v.trim()) throw new InvalidParameterError('VOLUME specified can not be an empty string');
          c.Volumes[v.trim()] = {};
        }
        break;
      }
      case 'workdir': {
        const dir = shellWords(rest, envMap()).join(' ');
        if (!dir) throw new InvalidParameterError('WORKDIR requires exactly one argument');
        c.WorkingDir = dir.startsWith('/') ? path.posix.normalize(dir) : path.posix.join('/', c.WorkingDir ?? '', dir);
        break;
      }
    }
  }
  return c;
}
