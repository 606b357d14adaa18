// Image archives: `docker save` and `docker load` (docker-archive and OCI layouts), `docker import` of a
// rootfs tarball, `docker export` of a container's root filesystem.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { applyChanges } from '../build/config-changes';
import { archivePath, readArchive, writeArchive, type ArchiveImage, type SaveImage } from '../image/archive';
import { dockerContainerConfig } from '../image/container-config';
import { VerifyDigestStream, sha256Digest } from '../image/content-store';
import { tarDirectory } from '../image/diff';
import { storeLayerBatch, type LayerSource } from '../image/layer-batch';
import { chainIdNext } from '../image/layer-store';
import type { Lease, LocalImages } from '../image/local-images';
import { hostArchitecture } from '../image/platform';
import { parseAnyReference, repoTagReference, type ImageReference } from '../wire/reference';
import { unpack } from '../image/unpack';
import { failpoint } from '../store/failpoint';
import { COMPAT_DOCKER_VERSION, type JsonMessage } from '../wire/docker';
import type { ImageConfig } from '../wire/oci';
import { InvalidParameterError, errorMessage } from '../errdefs';
import { publishImageEvent, type EventBus } from './events';

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

/** Layers of a load unpacked at once (as a pull's downloads). */
const LOAD_CONCURRENCY = 3;

export class ImageArchives {
  constructor(private readonly images: LocalImages, private readonly events: EventBus) {}

  /** `docker import`: a rootfs tarball (plain or gzip) becomes a one-layer image. */
  async importImage(body: Readable, opts: ImportOptions = {}): Promise<string> {
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag ?? '') : undefined;
    const cfg = applyChanges({}, opts.changes ?? []);
    // Docker records where an import came from when no message is given ("Imported from -" for a body).
    const message = opts.message || 'Imported from -';
    const lease: Lease = new Set();
    let failed = true;
    try {
      const layer = await this.images.addLayer(null, body, lease);
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
      const { id } = await this.images.addImage(config, lease, { refs: ref ? [ref] : [] });
      failpoint('import-done');
      if (ref) this.event('tag', id, ref.familiar());
      this.event('import', id, id);
      failed = false;
      return id;
    } finally {
      await this.images.endLease(lease, failed);
    }
  }


  /** `docker export`: a tar of a container's root filesystem, kept to device `dev` if given (a running one's). */
  exportRootfs(root: string, dev?: number): Readable {
    return tarDirectory(root, dev);
  }


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
      if (any.kind === 'id') { add(this.images.resolveId(name)); continue; }
      const named = any.ref;
      if (named.isNameOnly) {
        const tagged = this.images.index.referencesByName(named.name).filter((e) => e.ref.tag !== undefined && e.ref.digest === undefined);
        if (tagged.length) { for (const e of tagged) add(e.id, e.ref); continue; }
      }
      const id = this.images.resolveId(name);
      const lookup = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
      add(id, this.images.index.lookup(lookup) === id ? lookup : undefined);
    }
    const lease: Lease = new Set();
    const images: SaveImage[] = [];
    const tars = new Map<string, () => Readable>();
    try {
      await this.images.locked(async () => {
        for (const id of order) {
          const diffIds = this.images.takeImage(lease, id);
          const layers = [];
          for (const d of diffIds) {
            const tar = await this.images.layerTar(d);
            tars.set(d, tar.open);
            layers.push({ diffId: d, size: tar.size });
          }
          images.push({ id, configSize: (await this.images.content.info(id)).size, layers, refs: refsOf.get(id)! });
        }
      });
    } catch (err) {
      this.images.release(lease);
      throw err;
    }
    return writeArchive(images, (digest) => tars.get(digest)?.() ?? this.images.content.reader(digest), (err) => {
      this.images.release(lease);
      if (!err) for (const id of order) this.event('save', id, id);
    });
  }

  /**
   * `docker load`: a docker-archive (legacy `<id>/layer.tar` layout or Docker 25+'s blobs/ layout) or an
   * OCI image layout. The archive is unpacked (refusing escapes) into a private staging directory first;
   * each image and its names are recorded in one write, so a crash never leaves a half-loaded image.
   */
  async load(body: Readable, progress: (msg: JsonMessage) => void): Promise<string[]> {
    const staging = path.join(this.images.tmpDir, `load-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(staging, { recursive: true, mode: 0o700 });
    const lease: Lease = new Set();
    const loaded: string[] = [];
    let failed = true;
    try {
      await unpack(body, staging, { special: this.images.special, mode: 'archive' });
      failpoint('load-staged');
      const images = await readArchive(staging, hostArchitecture());
      // The last image of the archive to use each staged layer file: after its layers are unpacked, that file goes
      // before the sync (deleted while still in the page cache, it is never written to the disk). By real path: a
      // legacy archive links one image's layer.tar to another's.
      const lastUse = new Map<string, ArchiveImage>();
      for (const img of images) {
        for (const l of img.layers) lastUse.set(await archivePath(staging, l.file).catch(() => ''), img);
      }
      for (const img of images) {
        const id = sha256Digest(img.configBytes);
        const config = img.config;
        const diffIds = config.rootfs.diff_ids;
        if (diffIds.length !== img.layers.length) {
          throw new InvalidParameterError(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${img.layers.length}`);
        }
        await this.loadLayers(img, staging, lease, (file) => lastUse.get(file) === img);
        const { previous } = await this.images.addImage(config, lease, { configBytes: img.configBytes, refs: img.names });
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
      await this.images.endLease(lease, failed);
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * The layers of one image not already here, each unpacked straight from its staged file (verified against the
   * blob digest the archive names, recorded as tar-split like a pulled layer's, so its tar is not stored again),
   * three at once, then made durable by one sync and committed in order (image/layer-batch.ts).
   */
  private async loadLayers(img: ArchiveImage, staging: string, lease: Lease, lastUser: (file: string) => boolean): Promise<void> {
    const diffIds = img.config.rootfs.diff_ids;
    const sources: (LayerSource & { index: number; file: string })[] = [];
    let parent: string | null = null;
    for (let i = 0; i < diffIds.length; i++) {
      const l = img.layers[i]!;
      if (!this.images.hasLayer(parent, diffIds[i]!)) {
        sources.push({ index: i, parent, diffId: diffIds[i]!, file: await archivePath(staging, l.file), ...(l.digest ? { compressedDigest: l.digest } : {}) });
      }
      parent = chainIdNext(parent, diffIds[i]!);
    }
    await storeLayerBatch(this.images, lease, sources, {
      concurrency: LOAD_CONCURRENCY,
      prepare: async (s, prepare) => {
        let source: Readable = fs.createReadStream(s.file, { highWaterMark: 1 << 20 });
        if (s.compressedDigest) source = source.pipe(new VerifyDigestStream(s.compressedDigest, `layer ${img.layers[s.index]!.file}`));
        try {
          return await prepare(source);
        } catch (err) {
          const m = /diff ID mismatch: expected (\S+), got (\S+)/.exec(errorMessage(err));
          if (m) throw new InvalidParameterError(`invalid diffID for layer ${s.index}: expected "${m[1]}", got "${m[2]}"`);
          throw err;
        }
      },
      beforeSync: async () => {
        for (const s of sources) if (lastUser(s.file)) await fsp.rm(s.file, { force: true });
      },
      committed: () => failpoint('load-layer'),
    });
  }

  private event(action: string, id: string, name: string): void {
    publishImageEvent(this.events, this.images, action, id, name);
  }
}
