// docker pull: a manifest (an index resolved to the wanted platform), its config, and the layers not already here,
// downloaded in parallel, resumed, verified, and extracted in order into the local image store.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import { decompressWithTool } from '../host/decompress';
import type { BlobSources } from '../image/blob-sources';
import { sha256Digest } from '../image/content-store';
import { chainIdNext } from '../image/layer-store';
import type { Lease, LocalImages } from '../image/local-images';
import { hostArchitecture } from '../image/platform';
import { parseNormalizedNamed, truncateId, type ImageReference } from '../wire/reference';
import { RegistryResponseError, RegistryUnreachableError, readSmall, type RegistryClient, type RegistrySession } from '../registry/client';
import { KeyedMutex } from '../util/mutex';
import { isSha256Digest } from '../wire/digest';
import type { AuthConfig } from '../wire/distribution';
import { MediaTypes, type Descriptor, type ImageConfig, type Index, type Manifest } from '../wire/oci';
import { publishImageEvent, type EventBus } from './events';
import { Counter, LayerProgress, type Progress } from './layer-progress';
import { registryHost, scopeOf } from './registry-auth';

/** Docker's default: max-concurrent-downloads 3. */
const DOWNLOAD_CONCURRENCY = 3;
/** A dropped download is continued with a Range request this many times before the pull fails. */
const DOWNLOAD_ATTEMPTS = 5;
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_CONFIG = 8 * 1024 * 1024;

const MANIFEST_ACCEPT = [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex].join(', ');
const LAYER_TYPES: readonly string[] = [MediaTypes.dockerLayerGzip, MediaTypes.dockerLayer, MediaTypes.ociLayer, MediaTypes.ociLayerGzip, MediaTypes.ociLayerZstd,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar'];
const CONFIG_TYPES: readonly string[] = [MediaTypes.dockerConfig, MediaTypes.ociConfig];

export interface PullOptions {
  auth?: AuthConfig;
  /** "linux/amd64", "linux/arm64/v8"; the host's by default. */
  platform?: string;
  progress?: Progress;
}

/** What a pull works with (distribution.ts makes them). */
export interface TransferContext {
  images: LocalImages;
  events: EventBus;
  client: RegistryClient;
  /** Where each layer was pulled from or pushed to, for a push's cross-repository mounts. */
  sources: BlobSources;
}

/** A small registry reply read whole; a cut or oversized one is named as what it was (not a bare "aborted"). */
async function readReply(res: Readable, limit: number, what: string, session: RegistrySession): Promise<Buffer> {
  try {
    return await readSmall(res, limit);
  } catch (err) {
    throw new SystemError(`reading ${what} from ${session.origin}: ${err instanceof Error && err.message === 'aborted' ? 'the registry closed the connection before the end of the reply' : errorMessage(err)}`);
  }
}

/** A blob download that ran past the size its descriptor gives. */
class OversizeBlobError extends Error {
  constructor(digest: string, size: number) {
    super(`the registry sent more than the ${size} bytes its manifest gives for ${digest}`);
  }
}

/** Runs what it is given with at most `limit` at a time, in the order given. */
function semaphore(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

function bareType(ct: string | string[] | undefined): string {
  return (Array.isArray(ct) ? ct[0] ?? '' : ct ?? '').split(';')[0]!.trim();
}

/** "linux/amd64[/variant]" → its parts; the host's platform by default. */
function parsePlatform(p: string | undefined): { os: string; architecture: string; variant?: string } {
  if (!p) return { os: 'linux', architecture: hostArchitecture() };
  const parts = p.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !x)) throw new InvalidParameterError(`invalid platform ${JSON.stringify(p)}: expected os/arch[/variant]`);
  return { os: parts[0]!, architecture: parts[1] === 'x86_64' ? 'amd64' : parts[1] === 'aarch64' ? 'arm64' : parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export class ImagePuller {
  private readonly downloads = new KeyedMutex();

  constructor(private readonly o: TransferContext) {}

  /**
   * `docker pull`: the manifest (an index resolved to the wanted platform), the config, then the layers not
   * already here, downloaded in parallel and verified, extracted in order. Resolves to the image ID.
   */
  async pull(refString: string, opts: PullOptions = {}): Promise<string> {
    const progress = opts.progress ?? (() => undefined);
    const named = parseNormalizedNamed(refString);
    const ref = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
    const platform = parsePlatform(opts.platform);
    const session = this.o.client.session(registryHost(ref.domain), opts.auth ?? {});
    const scope = scopeOf(ref, 'pull');
    const reference = ref.digest ?? ref.tag!;

    const top = await this.fetchManifest(session, ref, reference, scope);
    let manifestBytes = top.body;
    let manifestType = top.mediaType;
    if (manifestType === MediaTypes.dockerManifestList || manifestType === MediaTypes.ociIndex) {
      const child = this.choosePlatform(JSON.parse(manifestBytes.toString('utf8')) as Index, platform);
      const m = await this.fetchManifest(session, ref, child.digest, scope);
      if (m.mediaType === MediaTypes.dockerManifestList || m.mediaType === MediaTypes.ociIndex) throw new InvalidParameterError(`manifest ${child.digest} of ${ref.familiar()}: nested indexes are not supported`);
      manifestBytes = m.body;
      manifestType = m.mediaType;
    }
    const manifest = this.checkManifest(manifestBytes, manifestType, ref);
    progress({ status: `Pulling from ${ref.path}`, id: reference });

    const configBytes = await this.fetchSmallBlob(session, ref, manifest.config, scope, MAX_CONFIG);
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (err) {
      throw new InvalidParameterError(`invalid image config ${manifest.config.digest} for ${ref.familiar()}: ${errorMessage(err)}`);
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length || !diffIds.every(isSha256Digest)) {
      throw new InvalidParameterError(`invalid image config ${manifest.config.digest}: ${diffIds.length} diff IDs for ${manifest.layers.length} layers`);
    }
    const id = manifest.config.digest;
    const existedBefore = this.o.images.has(id);
    const tagRef = ref.tag !== undefined ? ref : undefined;
    const upToDate = existedBefore && (tagRef ? this.o.images.has(tagRef.toString()) && this.o.images.resolveId(tagRef.toString()) === id : true);

    const lease = this.o.images.beginLease();
    let failed = true;
    try {
      // Which layers are missing: the chain up to each layer decides (a layer is stored on its parent).
      const parents: (string | null)[] = [];
      const missing: number[] = [];
      let parent: string | null = null;
      for (let i = 0; i < diffIds.length; i++) {
        parents.push(parent);
        if (!this.o.images.hasLayer(parent, diffIds[i]!)) missing.push(i);
        parent = chainIdNext(parent, diffIds[i]!);
      }
      const bars = manifest.layers.map((l) => new LayerProgress(progress, truncateId(l.digest)));
      for (let i = 0; i < bars.length; i++) bars[i]!.status(missing.includes(i) ? 'Pulling fs layer' : 'Already exists');
      for (const i of missing.slice(DOWNLOAD_CONCURRENCY)) bars[i]!.status('Waiting');
      // Downloads run in parallel (bounded); extraction follows in layer order as each download completes.
      const slot = semaphore(DOWNLOAD_CONCURRENCY);
      const downloads = new Map(missing.map((i) => [i, slot(() => this.downloadBlob(session, ref, manifest.layers[i]!, scope, bars[i]!))]));
      for (const p of downloads.values()) p.catch(() => undefined);
      // On failure every downloaded blob stays: the layers extracted so far go with the failed pull's lease,
      // and the next pull takes them from the partial area instead of the network.
      try {
        for (const i of missing) {
          const file = await downloads.get(i)!;
          await this.extract(lease, parents[i]!, diffIds[i]!, manifest.layers[i]!, file, bars[i]!, ref);
        }
      } finally {
        // Nothing keeps writing into the partial area once the pull has ended (what is there is resumed next time).
        await Promise.allSettled(downloads.values());
      }
      const refs: ImageReference[] = [];
      if (tagRef) refs.push(tagRef);
      refs.push(ref.nameOnly().withDigest(top.digest));
      const { id: stored } = await this.o.images.addPulledImage(lease, configBytes, refs);
      for (const r of refs) if (r.digest === undefined) publishImageEvent(this.o.events, this.o.images, 'tag', stored, r.familiar());
      publishImageEvent(this.o.events, this.o.images, 'pull', stored, refs[0]?.familiar() ?? stored);
      failed = false;
      // Only now: a layer may appear twice in one manifest, and its download serves both.
      for (const i of missing) await fsp.rm(path.join(this.o.images.partialDir, manifest.layers[i]!.digest.slice(7)), { force: true });
    } finally {
      await this.o.images.endLease(lease, failed);
    }
    progress({ status: `Digest: ${top.digest}` });
    progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${ref.familiar()}` });
    return id;
  }

  /** `docker pull --all-tags`: every tag of the repository, one after the other. */
  async pullAllTags(refString: string, opts: PullOptions = {}): Promise<void> {
    const repo = parseNormalizedNamed(refString).nameOnly();
    parsePlatform(opts.platform); // a bad platform is refused before the registry is asked
    const session = this.o.client.session(registryHost(repo.domain), opts.auth ?? {});
    let tags: string[];
    try {
      const r = await session.request('GET', `/v2/${repo.path}/tags/list`, { scope: scopeOf(repo, 'pull') });
      tags = ((JSON.parse((await readSmall(r.res, 16 << 20)).toString('utf8')) as { tags?: string[] }).tags ?? []).filter((t) => typeof t === 'string');
    } catch (err) {
      throw this.pullError(err, repo.withDefaultTag());
    }
    if (!tags.length) throw new NotFoundError(`no tags found in ${repo.familiar()}`);
    for (const tag of tags) await this.pull(repo.withTag(tag).toString(), opts);
  }

  private choosePlatform(index: Index, want: { os: string; architecture: string; variant?: string }): Descriptor {
    const entries = Array.isArray(index.manifests) ? index.manifests : [];
    const matching = entries.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && isSha256Digest(m.digest));
    const exact = matching.find((m) => (m.platform!.variant ?? '') === (want.variant ?? ''));
    const chosen = exact ?? (want.variant ? undefined : matching[0]);
    if (!chosen) {
      throw new NotFoundError(`no matching manifest for ${want.os}/${want.architecture}${want.variant ? `/${want.variant}` : ''} in the manifest list entries`);
    }
    return chosen;
  }

  /** GET a manifest by tag or digest; verifies a digest reference against the bytes. */
  private async fetchManifest(session: RegistrySession, ref: ImageReference, reference: string, scope: string): Promise<{ body: Buffer; mediaType: string; digest: string }> {
    let reply;
    try {
      reply = await session.request('GET', `/v2/${ref.path}/manifests/${reference}`, { scope, headers: { Accept: MANIFEST_ACCEPT } });
    } catch (err) {
      throw this.pullError(err, ref);
    }
    const body = await readReply(reply.res, MAX_MANIFEST, `the manifest of ${ref.familiar()}`, session);
    const digest = sha256Digest(body);
    if (reference.includes(':') && digest !== reference) {
      throw new InvalidParameterError(`manifest verification failed for digest ${reference}: the registry sent content with digest ${digest}`);
    }
    let mediaType = bareType(reply.res.headers['content-type']);
    let parsed: { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new InvalidParameterError(`the manifest of ${ref.familiar()} is not JSON`);
    }
    if (parsed.schemaVersion === 1) throw new InvalidParameterError(`${ref.familiar()}: Docker image manifest v2 schema 1 is not supported; push the image again with a current client`);
    if (typeof parsed.mediaType === 'string' && parsed.mediaType) mediaType = parsed.mediaType;
    else if (![MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].includes(mediaType as never)) {
      mediaType = Array.isArray(parsed.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
    }
    if (![MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].includes(mediaType as never)) {
      throw new InvalidParameterError(`unsupported manifest media type ${JSON.stringify(mediaType)} for ${ref.familiar()}`);
    }
    return { body, mediaType, digest: reference.includes(':') ? reference : digest };
  }

  private checkManifest(body: Buffer, mediaType: string, ref: ImageReference): Manifest {
    const m = JSON.parse(body.toString('utf8')) as Manifest;
    const valid = (d: Descriptor | undefined) => !!d && isSha256Digest(d.digest) && Number.isSafeInteger(d.size) && d.size >= 0;
    if (!valid(m.config) || !Array.isArray(m.layers) || !m.layers.every(valid)) {
      throw new InvalidParameterError(`invalid ${mediaType} manifest for ${ref.familiar()}: config and layers must be sha256 descriptors with sizes`);
    }
    if (!CONFIG_TYPES.includes(m.config.mediaType)) {
      throw new InvalidParameterError(`${ref.familiar()} is not a container image: its config media type is ${JSON.stringify(m.config.mediaType)}`);
    }
    for (const l of m.layers) {
      if (!LAYER_TYPES.includes(l.mediaType)) throw new InvalidParameterError(`unsupported layer media type ${JSON.stringify(l.mediaType)} in ${ref.familiar()} (layer ${l.digest})`);
    }
    return m;
  }

  private async fetchSmallBlob(session: RegistrySession, ref: ImageReference, desc: Descriptor, scope: string, limit: number): Promise<Buffer> {
    if (desc.size > limit) throw new InvalidParameterError(`blob ${desc.digest} is larger than ${limit} bytes`);
    let reply;
    try {
      reply = await session.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, { scope });
    } catch (err) {
      throw this.pullError(err, ref);
    }
    const body = await readReply(reply.res, limit, `blob ${desc.digest} of ${ref.familiar()}`, session);
    const actual = sha256Digest(body);
    if (actual !== desc.digest) throw new InvalidParameterError(`image config verification failed for digest ${desc.digest}: got ${actual}`);
    return body;
  }

  /**
   * Downloads a blob into the content store's partial area, continuing what an earlier attempt (or an
   * interrupted pull) left with a Range request; verifies size and digest. Resolves to the file.
   */
  private downloadBlob(session: RegistrySession, ref: ImageReference, desc: Descriptor, scope: string, bar: LayerProgress): Promise<string> {
    return this.downloads.run(desc.digest, async () => {
      await fsp.mkdir(this.o.images.partialDir, { recursive: true });
      const file = path.join(this.o.images.partialDir, desc.digest.slice(7));
      let lastError: unknown;
      // The hash runs along with the download; after a failed attempt it is rebuilt from the bytes on disk.
      let hash: Hash | null = null;
      let hashed = 0;
      for (let attempt = 0; attempt < DOWNLOAD_ATTEMPTS; attempt++) {
        const have = await fsp.stat(file).then((st) => st.size, () => 0);
        if (have > desc.size) await fsp.truncate(file, 0);
        const offset = have > desc.size ? 0 : have;
        if (hash === null || hashed !== offset) {
          hash = createHash('sha256');
          if (offset > 0) for await (const c of fs.createReadStream(file, { end: offset - 1 })) hash.update(c as Buffer);
          hashed = offset;
        }
        if (offset === desc.size) break;
        try {
          const reply = await session.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, {
            scope, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, ok: (st) => st === 200 || st === 206,
          });
          const res = reply.res;
          let start = 0;
          if (res.statusCode === 206) {
            const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
            start = m ? Number(m[1]) : -1;
          }
          if (start !== offset) {
            // No usable range (200, or a range elsewhere): start over from the first byte.
            if (start !== 0) { res.resume(); if (res.statusCode === 206) continue; }
            await fsp.truncate(file, 0).catch(() => undefined);
            hash = createHash('sha256');
            hashed = 0;
          }
          const base = hashed;
          const h = hash;
          const counter = new Counter((n) => bar.bytes('Downloading', base + n, desc.size));
          let received = 0;
          const feed = new Transform({
            transform(chunk: Buffer, _e, cb) {
              received += chunk.length;
              // Refused as it happens: a registry sending more than the manifest says must not fill the disk first.
              if (base + received > desc.size) { cb(new OversizeBlobError(desc.digest, desc.size)); return; }
              h.update(chunk);
              cb(null, chunk);
            },
          });
          try {
            await pipeline(res, counter, feed, fs.createWriteStream(file, { flags: base > 0 ? 'a' : 'w' }));
          } catch (err) {
            hash = null;
            throw err;
          }
          hashed = base + counter.count;
          lastError = undefined;
        } catch (err) {
          lastError = err;
          // The registry refused (not a dropped connection), or lied about the size: no point in retrying.
          if (err instanceof RegistryResponseError) throw this.pullError(err, ref);
          if (err instanceof OversizeBlobError) {
            await fsp.rm(file, { force: true });
            throw new SystemError(`failed to download layer ${desc.digest} of ${ref.familiar()}: ${err.message}`);
          }
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
      const size = await fsp.stat(file).then((st) => st.size, () => 0);
      if (size !== desc.size || hash === null || hashed !== size) {
        if (size > desc.size) await fsp.rm(file, { force: true });
        throw new SystemError(`failed to download layer ${desc.digest} of ${ref.familiar()}: got ${size} of ${desc.size} bytes${lastError ? `: ${errorMessage(lastError)}` : ''}`);
      }
      bar.status('Verifying Checksum');
      const actual = 'sha256:' + hash.digest('hex');
      if (actual !== desc.digest) {
        await fsp.rm(file, { force: true });
        throw new InvalidParameterError(`filesystem layer verification failed for digest ${desc.digest}: got ${actual}`);
      }
      bar.status('Download complete');
      return file;
    });
  }

  private async extract(lease: Lease, parent: string | null, diffId: string, desc: Descriptor, file: string, bar: LayerProgress, ref: ImageReference): Promise<void> {
    const counter = new Counter((n) => bar.bytes('Extracting', n, desc.size));
    // Large reads: the tar is hashed, stored and unpacked chunk by chunk, and each chunk costs calls.
    let source: Readable = fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(counter);
    // Node has no zstd: Debian's zstd decompresses (the layer store then sees a plain tar).
    if (desc.mediaType === MediaTypes.ociLayerZstd) source = decompressWithTool('zstd', source);
    try {
      await this.o.images.addLayer(parent, source, lease, diffId, desc.digest);
    } catch (err) {
      // Verified bytes that do not unpack to the config's diff ID are bad content: not worth resuming.
      await fsp.rm(file, { force: true });
      if (/^digest mismatch/.test(errorMessage(err))) throw new InvalidParameterError(`layer ${desc.digest} of ${ref.familiar()} does not unpack to the diff ID its image config names: ${errorMessage(err)}`);
      throw err instanceof BerthError ? err : new SystemError(`failed to register layer ${desc.digest}: ${errorMessage(err)}`);
    }
    bar.bytes('Extracting', desc.size, desc.size, true);
    bar.status('Pull complete');
    await this.o.sources.add(diffId, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: registryHost(ref.domain), repository: ref.path });
  }

  /** Docker's wording for a pull the registry refuses. */
  private pullError(err: unknown, ref: ImageReference): Error {
    if (err instanceof RegistryResponseError) {
      if (err.status === 401 || err.status === 403 || err.code === 'NAME_UNKNOWN') {
        // Docker answers these as not found (404), not 401: the CLI would otherwise prompt for a login.
        return new NotFoundError(`pull access denied for ${ref.nameOnly().familiar()}, repository does not exist or may require 'docker login': ${err.message}`);
      }
      if (err.status === 404) return new NotFoundError(`manifest for ${ref.familiar()} not found: ${err.message}`);
      return new SystemError(err.message);
    }
    if (err instanceof RegistryUnreachableError) return new SystemError(err.message);
    return err as Error;
  }
}
