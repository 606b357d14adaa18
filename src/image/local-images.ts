// The node's images: the content, layer and image stores behind one lock, with leases and garbage collection.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { HostFilesystemSync, type FilesystemSync } from '../host/filesystem-sync';
import { HostSpecialFiles, type SpecialFiles } from '../host/special-files';
import { failpoint } from '../store/failpoint';
import { KeyedMutex } from '../util/mutex';
import type { ImageConfig } from '../wire/oci';
import { InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import { ContentStore } from './content-store';
import { ImageStore } from './image-store';
import { LayerStore, chainIdNext, chainIdOf, chainIdsOf, type LayerRecord } from './layer-store';
import { parseAnyReference, type ImageReference } from '../wire/reference';
import { decompress } from './unpack';

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

/**
 * Who uses an image, for rmi's conflicts and to release retained layers: the container service, through daemon.ts.
 * Undefined while it cannot answer (its containers not loaded yet): until then no retained image is released.
 */
export type ImageUsage = (imageId: string) => ContainerUse[] | undefined;

/** A set of digests and ChainIDs an operation holds: garbage collection leaves them alone until it ends. */
export type Lease = Set<string>;

export interface LocalImagesOptions {
  /** The daemon's data root; everything lives under `<root>/image/`. */
  root: string;
  special?: SpecialFiles;
  /** Makes a pull's unpacked layers durable in one flush (syncStore()). */
  sync?: FilesystemSync;
  usage?: ImageUsage;
}

/** A pulled layer unpacked and its tar written, in one pass, not yet visible: sync the store, then commit in layer order. */
export interface PreparedLayer {
  diffId: string;
  chainId: string;
  /** Renames the tar blob and the layer into place under `lease` (the parent must be committed by now). */
  commit(lease: Lease): Promise<LayerRecord>;
  abort(): Promise<void>;
}

export class LocalImages {
  readonly root: string;
  readonly special: SpecialFiles;
  private readonly sync: FilesystemSync;
  readonly content: ContentStore;
  readonly layers: LayerStore;
  /** Configs, references and parents; change it only inside locked(). */
  readonly index: ImageStore;
  /** Private scratch space (load's staging), emptied at start. */
  readonly tmpDir: string;
  private readonly mutex = new KeyedMutex();
  /** Digests and ChainIDs in-flight operations hold (refcounted): the sweep never removes them. */
  private readonly leases = new Map<string, number>();
  private readonly usage: ImageUsage;

  constructor(opts: LocalImagesOptions) {
    this.root = path.join(opts.root, 'image');
    this.special = opts.special ?? new HostSpecialFiles();
    this.sync = opts.sync ?? new HostFilesystemSync();
    this.usage = opts.usage ?? (() => undefined);
    this.content = new ContentStore(this.root);
    this.layers = new LayerStore(this.root, this.special);
    this.index = new ImageStore(this.root, this.content);
    this.tmpDir = path.join(this.root, 'tmp');
  }

  /** Opens the stores and repairs what a crash left: half-written blobs, layers, temps, images missing parts. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
    await this.content.init();
    await this.layers.init();
    await this.index.init((_id, config) => {
      const diffIds = config.rootfs?.diff_ids ?? [];
      return chainIdsOf(diffIds).every((c) => this.hasLayerTar(c));
    });
    await this.sweep();
  }

  /** The containers using an image; undefined while no container service answers. */
  usersKnown(imageId: string): { id: string; running: boolean }[] | undefined {
    return this.usage(imageId)?.map((u) => (typeof u === 'string' ? { id: u, running: false } : u));
  }

  users(imageId: string): { id: string; running: boolean }[] {
    return this.usersKnown(imageId) ?? [];
  }

  /** Runs `fn` under the store lock: index changes, layer and blob commits and sweeps never interleave. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run('store', fn);
  }

  // ---------- lookup ----------

  /** By name[:tag] (":latest" implied), name@digest, full or unique-prefix ID with or without "sha256:". */
  async resolve(refOrId: string): Promise<ImageRecord> {
    return this.record(this.resolveId(refOrId));
  }

  resolveId(refOrId: string): string {
    const any = parseAnyReference(refOrId);
    if (any.kind === 'id') {
      if (this.index.has(any.id)) return any.id;
      throw new NotFoundError(`No such image: ${any.id}`);
    }
    const named = any.ref;
    const lookupRef = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
    const id = this.index.lookup(lookupRef);
    if (id) return id;
    const matches = this.index.search(refOrId);
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
    return this.has(refOrId) ? this.index.meta(this.resolveId(refOrId)).parent ?? '' : '';
  }

  record(id: string): ImageRecord {
    const config = this.index.config(id);
    const meta = this.index.meta(id);
    const top = chainIdOf(config.rootfs?.diff_ids ?? []);
    const refs = this.index.references(id);
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

  /** The labels an image's events carry (none once it is gone). */
  labels(id: string): Record<string, string> {
    return this.index.has(id) ? (this.index.config(id).config?.Labels ?? {}) : {};
  }

  // ---------- leases ----------

  /** A set of digests and ChainIDs an operation holds: the sweep leaves them alone until endLease(). */
  beginLease(): Lease {
    return new Set();
  }

  /**
   * Ends an import, load, commit, pull or push: releases its lease and, when it failed (or stored something
   * it did not use), sweeps what nothing else uses: the blob of a refused tar must not wait for the next rmi.
   */
  async endLease(lease: Lease, sweep: boolean): Promise<void> {
    this.release(lease);
    if (sweep) await this.locked(() => this.sweep()).catch(() => undefined);
  }

  /** Adds `key` to the lease (once); call with the store lock held, so no sweep runs in between. */
  take(lease: Lease, key: string): void {
    if (lease.has(key)) return;
    lease.add(key);
    this.leases.set(key, (this.leases.get(key) ?? 0) + 1);
  }

  release(lease: Lease): void {
    for (const key of lease) {
      const n = (this.leases.get(key) ?? 1) - 1;
      if (n <= 0) this.leases.delete(key);
      else this.leases.set(key, n);
    }
    lease.clear();
  }

  /**
   * Leases an image's config and layer tars (save, push) so no rmi removes them, kept tars and the layers a
   * tar-split record regenerates them from alike; call with the store lock held.
   */
  takeImage(lease: Lease, id: string): string[] {
    const diffIds = this.index.config(id).rootfs?.diff_ids ?? [];
    this.take(lease, id);
    for (const d of diffIds) this.take(lease, d);
    for (const c of chainIdsOf(diffIds)) this.take(lease, c);
    return diffIds;
  }

  // ---------- writing ----------

  /** Whether the layer `diffId` on top of `parent` is unpacked and its tar kept (a pull skips it: "Already exists"). */
  hasLayer(parent: string | null, diffId: string): boolean {
    return this.hasLayerTar(chainIdNext(parent, diffId));
  }

  /** The layer is here and so is its tar: a blob (layers loaded, built, committed, pulled before) or a tar-split record. */
  private hasLayerTar(chainId: string): boolean {
    if (!this.layers.has(chainId)) return false;
    const rec = this.layers.get(chainId);
    return rec.tarSplit === true || this.content.has(rec.diffId);
  }

  /**
   * Stores a layer tar (any compression) as blob + unpacked layer on top of `parent`, reusing what exists;
   * with `expectedDiffId`, refuses content whose uncompressed digest differs. Commits happen under the
   * store lock with a lease taken, so a concurrent rmi cannot sweep them away.
   */
  async addLayer(parent: string | null, tarStream: Readable, lease: Lease, expectedDiffId?: string, compressedDigest?: string): Promise<LayerRecord> {
    if (expectedDiffId !== undefined) {
      const chain = chainIdNext(parent, expectedDiffId);
      const reused = await this.locked(async () => {
        if (this.hasLayerTar(chain)) {
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
    const existing = await this.locked(async () => {
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
    return this.locked(async () => {
      const rec = await prepared.commit();
      this.take(lease, rec.chainId);
      return rec;
    });
  }

  /**
   * A pull's layer in one pass: the uncompressed tar stream is unpacked (and hashed once, by the unpacker) on
   * top of `parent`, which may still be on its way, and kept as a tar-split record beside the unpacked files
   * (not as a second copy: decision 3). Nothing is visible until commit(); content whose diff ID is not
   * `expectedDiffId` is refused and nothing is kept.
   */
  async prepareLayer(parent: string | null, tarStream: Readable, expectedDiffId: string, compressedDigest: string | undefined, onFileBytes?: (file: string, bytes: number) => void): Promise<PreparedLayer> {
    const layer = await this.layers.prepare(tarStream, parent, { expectedDiffId, ...(compressedDigest ? { compressedDigest } : {}), parentMayFollow: true, recordTar: true, ...(onFileBytes ? { onFileBytes } : {}) });
    return {
      diffId: layer.diffId,
      chainId: layer.chainId,
      abort: () => layer.abort(),
      commit: (lease) => this.locked(async () => {
        const rec = await layer.commit();
        this.take(lease, rec.chainId);
        return rec;
      }),
    };
  }

  /** Everything written under the store so far, on disk: what prepareLayer() wrote, before it is committed. */
  async syncStore(): Promise<void> {
    await this.sync.syncFilesystem(this.root);
  }

  /** The data of these files (written under the store by prepareLayer()) on disk; a write-behind's early flush. */
  async syncFiles(files: readonly string[]): Promise<void> {
    await this.sync.syncFiles(files);
  }

  /**
   * Writes the config blob and records the image with its references in one index write, so a crash
   * leaves either nothing or the whole image, named (its layers are leased by the caller). `previous`
   * lists the images the references pointed at before.
   */
  async addImage(config: ImageConfig, lease: Lease, opts: { parent?: string; configBytes?: Buffer; refs?: ImageReference[] } = {}): Promise<{ id: string; previous: (string | undefined)[] }> {
    const bytes = opts.configBytes ?? Buffer.from(canonicalConfigJson(config));
    const pending = await this.content.ingest(Readable.from([bytes]));
    const id = pending.digest;
    return this.locked(async () => {
      await pending.commit();
      this.take(lease, id);
      failpoint('image-config');
      const diffIds = config.rootfs?.diff_ids ?? [];
      for (const c of chainIdsOf(diffIds)) if (!this.layers.has(c)) throw new SystemError(`layer ${c} of image ${id} is missing`);
      const parent = opts.parent && this.index.has(opts.parent) ? opts.parent : undefined;
      const previous = await this.index.add(id, config, parent ? { parent } : {}, opts.refs ?? [], new Date().toISOString());
      return { id, previous };
    });
  }

  /** Records a pulled image (its layers stored under `lease`) from its config's bytes, with its references. */
  async addPulledImage(lease: Lease, configBytes: Buffer, refs: ImageReference[]): Promise<{ id: string; previous: (string | undefined)[] }> {
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (err) {
      throw new InvalidParameterError(`invalid image config: ${errorMessage(err)}`);
    }
    return this.addImage(config, lease, { configBytes, refs });
  }

  /** For a push: leases an image's config and layer tars so no rmi removes them mid-push; returns the config's bytes. */
  async leaseImage(lease: Lease, id: string): Promise<Buffer> {
    return this.locked(async () => {
      this.takeImage(lease, id);
      return this.content.readBlob(id);
    });
  }

  /**
   * A leased layer tar, uncompressed, with its length: the kept blob, or else regenerated from a layer's
   * tar-split record (a leased layer's first: the lease keeps it from being swept while it is read).
   */
  async layerTar(diffId: string): Promise<{ size: number; open: () => Readable }> {
    if (this.content.has(diffId)) {
      const info = await this.content.info(diffId);
      return { size: info.size, open: () => this.content.reader(diffId) };
    }
    const recorded = this.layers.list().filter((l) => l.diffId === diffId && l.tarSplit);
    const rec = recorded.find((l) => this.leases.has(l.chainId)) ?? recorded[0];
    if (!rec) throw new NotFoundError(`content ${diffId}: not found`);
    return { size: rec.tarSize, open: () => this.layers.tarOf(rec.chainId) };
  }

  /** Points references at an image (the repo@digest a push or pull by digest records). */
  async addReferences(id: string, refs: ImageReference[]): Promise<void> {
    await this.locked(async () => {
      if (!this.index.has(id)) return;
      for (const ref of refs) await this.index.setReference(ref, id);
    });
  }

  /** Where partly downloaded blobs wait for a resumed pull: inside the content store's ingest, kept across restarts. */
  get partialDir(): string {
    return this.content.partialDir;
  }

  // ---------- garbage collection ----------

  /** Sweeps once the last container of a force-removed image is gone (its layers were retained for it). */
  async collectRetained(): Promise<void> {
    if (!Object.keys(this.index.retained()).length) return;
    await this.locked(() => this.sweep()).catch(() => undefined);
  }

  /**
   * Removes layers and blobs no image (nor a container of a force-removed image, nor an in-flight
   * operation) references. Returns the removed layers. Call with the store lock held (or at init).
   */
  async sweep(): Promise<LayerRecord[]> {
    const liveChains = new Set<string>();
    const liveBlobs = new Set<string>();
    for (const id of this.index.ids()) {
      liveBlobs.add(id);
      for (const c of chainIdsOf(this.index.config(id).rootfs?.diff_ids ?? [])) liveChains.add(c);
    }
    const released: string[] = [];
    for (const [id, top] of Object.entries(this.index.retained())) {
      if (this.usersKnown(id)?.length === 0) { released.push(id); continue; }
      for (let c = top; c !== null && this.layers.has(c); c = this.layers.get(c).parent) liveChains.add(c);
    }
    await this.index.release(released);
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
