// docker push: each tag's layers uploaded in parallel unless the registry has them ("Layer already exists") or
// another of its repositories does ("Mounted from"), then the config and a Docker v2 schema 2 manifest, and its
// sigstore signature when asked (trust/image-trust.ts).
import { createHash, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ForbiddenError, InvalidParameterError, NotFoundError, SystemError, UnauthorizedError } from '../errdefs';
import { sha256Digest } from '../image/content-store';
import { AdaptiveGzip } from '../image/gzip';
import { parseNormalizedNamed, truncateId, type ImageReference } from '../wire/reference';
import { RegistryResponseError, RegistryUnreachableError, type RegistrySession } from '../registry/client';
import { RegistryRepository } from '../registry/repository';
import type { AuthConfig } from '../wire/distribution';
import { MediaTypes, type Descriptor, type ImageConfig } from '../wire/oci';
import type { TransferContext } from './image-pull';
import { Counter, LayerProgress, type Progress } from './layer-progress';
import { registryHost, scopeOf } from './registry-auth';

/** Docker's default: max-concurrent-uploads 5. */
const UPLOAD_CONCURRENCY = 5;

export interface PushOptions {
  auth?: AuthConfig;
  progress?: Progress;
  /** Signs each pushed manifest with this sigstore (ECDSA P-256) key and stores the signature beside it. */
  signWith?: KeyObject;
}

class Hasher extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
}

/** Runs `fn` over `items` with at most `limit` at a time; fails with the first error once all have settled. */
async function bounded<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

/** A layer's media type in a Docker v2 schema 2 manifest (the bytes are the same for OCI's). */
function dockerLayerType(mediaType: string): string {
  if (mediaType === MediaTypes.ociLayer || mediaType === MediaTypes.dockerLayer) return MediaTypes.dockerLayer;
  return MediaTypes.dockerLayerGzip;
}

export class ImagePusher {
  constructor(private readonly o: TransferContext) {}

  /**
   * `docker push`: each tag of `name` (or only `tag`): layers uploaded in parallel unless the registry has
   * them ("Layer already exists") or another of its repositories does ("Mounted from"), then the config and
   * a Docker v2 schema 2 manifest. The digest is recorded as a RepoDigest.
   */
  async push(name: string, tag: string | undefined, opts: PushOptions = {}): Promise<void> {
    const progress = opts.progress ?? (() => undefined);
    const repo = parseNormalizedNamed(name);
    if (repo.digest !== undefined) throw new InvalidParameterError('cannot push a digest reference');
    const tags: ImageReference[] = [];
    if (tag) tags.push(repo.nameOnly().withTag(tag));
    else if (repo.tag !== undefined) tags.push(repo);
    else {
      for (const { ref: r } of this.o.images.index.referencesByName(repo.name)) if (r.tag !== undefined && r.digest === undefined) tags.push(r);
      tags.sort((a, b) => (a.tag! < b.tag! ? -1 : 1));
    }
    if (!tags.length || !tags.every((t) => this.o.images.has(t.toString()))) {
      throw new NotFoundError(`An image does not exist locally with the tag: ${repo.nameOnly().familiar()}`);
    }
    const host = registryHost(repo.domain);
    const session = this.o.client.session(host, opts.auth ?? {});
    progress({ status: `The push refers to repository [${repo.nameOnly().toString()}]` });
    for (const t of tags) await this.pushTag(session, host, t, progress, opts.signWith);
  }

  private async pushTag(session: RegistrySession, host: string, ref: ImageReference, progress: Progress, signWith: KeyObject | undefined): Promise<void> {
    const id = this.o.images.resolveId(ref.toString());
    const lease = this.o.images.beginLease();
    try {
      const configBytes = await this.o.images.leaseImage(lease, id);
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      const diffIds = config.rootfs?.diff_ids ?? [];
      const scope = scopeOf(ref, 'pull,push');
      // Docker lists layers top first.
      const bars = diffIds.map((d) => new LayerProgress(progress, truncateId(d)));
      for (let i = diffIds.length - 1; i >= 0; i--) bars[i]!.status('Preparing');
      for (let i = diffIds.length - 1 - UPLOAD_CONCURRENCY; i >= 0; i--) bars[i]!.status('Waiting');
      const order = diffIds.map((_, i) => diffIds.length - 1 - i);
      const done = await bounded(order, UPLOAD_CONCURRENCY, (i) => this.pushLayer(session, host, ref, scope, diffIds[i]!, bars[i]!));
      const layers: Descriptor[] = new Array(diffIds.length);
      order.forEach((i, k) => { layers[i] = done[k]!; });
      const configDesc = { mediaType: MediaTypes.dockerConfig, size: configBytes.length, digest: id };
      const repository = new RegistryRepository(session, ref.path);
      await this.wrap(repository.putBlob(configBytes), ref);
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: configDesc,
        layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
      };
      // Docker writes schema 2 manifests indented with three spaces.
      const body = Buffer.from(JSON.stringify(manifest, null, 3));
      const digest = sha256Digest(body);
      await this.wrap(session.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, {
        scope, body, headers: { 'Content-Type': MediaTypes.dockerManifest },
      }).then((r) => { r.res.resume(); }), ref);
      if (signWith) {
        // After the manifest: a signature names a digest the registry already serves (containers/image's order).
        progress({ status: 'Signing manifest using a sigstore signature' });
        const { stored, referrer } = await this.wrap(this.o.trust.sign(repository, ref, { mediaType: MediaTypes.dockerManifest, digest, size: body.length }, signWith), ref);
        progress({ status: stored ? `Storing signatures${referrer ? ' (also listed by the referrers API)' : ''}` : 'Signature already stored (this key, this digest and name)' });
      }
      progress({ status: `${ref.tag}: digest: ${digest} size: ${body.length}` });
      progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: body.length } });
      await this.o.images.addReferences(id, [ref.nameOnly().withDigest(digest)]);
      this.o.events.publish('image', 'push', id, { name: ref.familiar() });
    } finally {
      await this.o.images.endLease(lease, false);
    }
  }

  private async blobExists(session: RegistrySession, ref: ImageReference, scope: string, digest: string): Promise<boolean> {
    const r = await this.wrap(session.request('HEAD', `/v2/${ref.path}/blobs/${digest}`, { scope, ok: (s) => (s >= 200 && s < 300) || s === 404 }), ref);
    r.res.resume();
    return r.res.statusCode !== 404;
  }

  private async pushLayer(session: RegistrySession, host: string, ref: ImageReference, scope: string, diffId: string, bar: LayerProgress): Promise<Descriptor> {
    // A zstd blob cannot go in a Docker v2 schema 2 manifest: such a layer is pushed again as gzip.
    const known = (await this.o.sources.lookup(diffId, host, ref.path)).filter((k) => k.mediaType !== MediaTypes.ociLayerZstd);
    for (const s of known.filter((k) => k.repository === ref.path)) {
      if (await this.blobExists(session, ref, scope, s.digest)) {
        bar.status('Layer already exists');
        return { mediaType: dockerLayerType(s.mediaType), size: s.size, digest: s.digest };
      }
      await this.o.sources.forget(diffId, host, ref.path, s.digest);
    }
    let location: string | undefined;
    for (const s of known.filter((k) => k.repository !== ref.path && k.mediaType !== MediaTypes.ociLayer && k.mediaType !== MediaTypes.dockerLayer)) {
      const r = await this.wrap(session.request('POST', `/v2/${ref.path}/blobs/uploads/?mount=${encodeURIComponent(s.digest)}&from=${encodeURIComponent(s.repository)}`, {
        scope: `${scope} repository:${s.repository}:pull`, body: Buffer.alloc(0),
      }), ref);
      r.res.resume();
      if (r.res.statusCode === 201) {
        bar.status(`Mounted from ${s.repository}`);
        const desc = { mediaType: MediaTypes.dockerLayerGzip, size: s.size, digest: s.digest };
        await this.o.sources.add(diffId, { ...s, repository: ref.path });
        return desc;
      }
      const loc = r.res.headers.location;
      if (loc) { location = new URL(loc, session.origin).href; break; }
    }
    const tar = await this.o.images.layerTar(diffId);
    if (!location) location = await this.startUpload(session, ref, scope);
    const hasher = new Hasher();
    const counter = new Counter((n) => bar.bytes('Pushing', n, tar.size));
    const source = tar.open();
    const gzip = new AdaptiveGzip();
    const body = source.pipe(counter).pipe(gzip).pipe(hasher);
    for (const s of [source, counter, gzip]) s.on('error', (err) => hasher.destroy(err));
    const patched = await this.wrap(session.request('PATCH', location, { scope, body, headers: { 'Content-Type': 'application/octet-stream' } }), ref);
    patched.res.resume();
    const digest = 'sha256:' + hasher.hash.digest('hex');
    const next = new URL(patched.res.headers.location ?? location, session.origin);
    next.searchParams.set('digest', digest);
    const put = await this.wrap(session.request('PUT', next.pathname + next.search, { scope, body: Buffer.alloc(0) }), ref);
    put.res.resume();
    bar.bytes('Pushing', tar.size, tar.size, true);
    bar.status('Pushed');
    this.o.meter?.bytes('push', hasher.size);
    await this.o.sources.add(diffId, { digest, size: hasher.size, mediaType: MediaTypes.dockerLayerGzip, registry: host, repository: ref.path });
    return { mediaType: MediaTypes.dockerLayerGzip, size: hasher.size, digest };
  }

  private async startUpload(session: RegistrySession, ref: ImageReference, scope: string): Promise<string> {
    const r = await this.wrap(session.request('POST', `/v2/${ref.path}/blobs/uploads/`, { scope, body: Buffer.alloc(0) }), ref);
    r.res.resume();
    const loc = r.res.headers.location;
    if (!loc) throw new SystemError(`the registry started an upload without a Location header (${r.url.href})`);
    return new URL(loc, session.origin).href;
  }

  /** Registry errors of a push in Docker's words. */
  private async wrap<T>(p: Promise<T>, ref: ImageReference): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof RegistryResponseError) {
        if (err.status === 401) throw new UnauthorizedError(err.message);
        if (err.status === 403) throw new ForbiddenError(err.message);
        throw new SystemError(`${err.message} (pushing ${ref.familiar()})`);
      }
      if (err instanceof RegistryUnreachableError) throw new SystemError(err.message);
      throw err;
    }
  }
}
