// Pull, push, login and search against OCI distribution registries, with Docker's JSON progress; the HTTP is registry/client.ts.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompressWithTool } from '../host/decompress';
import { BlobSources } from '../image/blob-sources';
import { AdaptiveGzip } from '../image/gzip';
import { chainIdNext } from '../image/layer-store';
import { parseNormalizedNamed, truncateId, type ImageReference } from '../image/reference';
import { RegistryClient, RegistryResponseError, RegistryUnreachableError, readSmall, type RegistrySession } from '../registry/client';
import { KeyedMutex } from '../util/mutex';
import { humanSize } from '../util/units';
import type { AuthConfig, SearchResult } from '../wire/distribution';
import type { JsonMessage } from '../wire/docker';
import { MediaTypes, type Descriptor, type ImageConfig, type Index, type Manifest } from '../wire/oci';
import {
  BerthError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, UnauthorizedError, errorMessage,
} from '../errdefs';
import { isSha256Digest } from '../wire/digest';
import type { Lease, LocalImages } from '../image/local-images';
import { hostArchitecture } from '../image/platform';
import { publishImageEvent, type EventBus } from './events';

/** Docker's defaults: max-concurrent-downloads 3, max-concurrent-uploads 5. */
const DOWNLOAD_CONCURRENCY = 3;
const UPLOAD_CONCURRENCY = 5;
/** A dropped download is continued with a Range request this many times before the pull fails. */
const DOWNLOAD_ATTEMPTS = 5;
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_CONFIG = 8 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

const MANIFEST_ACCEPT = [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex].join(', ');
const LAYER_TYPES: readonly string[] = [MediaTypes.dockerLayerGzip, MediaTypes.dockerLayer, MediaTypes.ociLayer, MediaTypes.ociLayerGzip, MediaTypes.ociLayerZstd,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar'];
const CONFIG_TYPES: readonly string[] = [MediaTypes.dockerConfig, MediaTypes.ociConfig];

export type Progress = (msg: JsonMessage) => void;

export interface DistributionOptions {
  images: LocalImages;
  events: EventBus;
  /** The image root (`<data-root>/image`): the blob sources file lives there. */
  imageRoot: string;
  insecureRegistries?: string[];
  certsDir?: string;
}

export interface PullOptions {
  auth?: AuthConfig;
  /** "linux/amd64", "linux/arm64/v8"; the host's by default. */
  platform?: string;
  progress?: Progress;
}

export interface PushOptions {
  auth?: AuthConfig;
  progress?: Progress;
}

/** Decodes Docker's X-Registry-Auth header (base64url JSON of an AuthConfig); empty or "{}" means anonymous. */
export function decodeRegistryAuth(header: string | string[] | undefined): AuthConfig {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return {};
  try {
    const parsed = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? checkAuthConfig(parsed, 'invalid X-Registry-Auth header') : {};
  } catch (err) {
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
}

/** An AuthConfig whose fields are strings (null as absent), as Go's decoder insists: `{"username": 5}` is refused. */
export function checkAuthConfig(v: object, what: string): AuthConfig {
  if (Array.isArray(v)) throw new InvalidParameterError(`${what}: expected a JSON AuthConfig object`);
  for (const [k, x] of Object.entries(v)) {
    if (x !== null && x !== undefined && typeof x !== 'string' && ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'].includes(k)) {
      throw new InvalidParameterError(`${what}: json: cannot unmarshal ${Array.isArray(x) ? 'array' : typeof x} into Go struct field AuthConfig.${k} of type string`);
    }
  }
  return v as AuthConfig;
}

/** A small registry reply read whole; a cut or oversized one is named as what it was (not a bare "aborted"). */
async function readReply(res: Readable, limit: number, what: string, session: RegistrySession): Promise<Buffer> {
  try {
    return await readSmall(res, limit);
  } catch (err) {
    throw new SystemError(`reading ${what} from ${session.origin}: ${err instanceof Error && err.message === 'aborted' ? 'the registry closed the connection before the end of the reply' : errorMessage(err)}`);
  }
}

/** A registry host[:port] a URL can be made of; anything else is the client's mistake, named. */
function checkedRegistryHost(host: string): string {
  let ok = host !== '';
  try { ok &&= new URL(`https://${host}/`).host !== ''; } catch { ok = false; }
  if (!ok) throw new InvalidParameterError(`invalid registry address ${JSON.stringify(host)}: expected a host name or address with an optional port`);
  return host;
}

/** The host the engine talks to for a reference's domain (Docker Hub's API lives elsewhere than its name). */
export function registryHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : checkedRegistryHost(domain);
}

/** jsonmessage's progress text: "[=====>      ]  1.2MB/4.5MB". */
function progressText(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  return `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Per-layer progress, throttled: the first and last of each status always go out. */
/** A blob download that ran past the size its descriptor gives. */
class OversizeBlobError extends Error {
  constructor(digest: string, size: number) {
    super(`the registry sent more than the ${size} bytes its manifest gives for ${digest}`);
  }
}

class LayerProgress {
  private last = 0;
  constructor(private readonly out: Progress, readonly id: string) {}

  status(status: string): void {
    this.out({ status, progressDetail: {}, id: this.id });
  }

  bytes(status: string, current: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.out({ status, progressDetail: { current, total }, progress: progressText(current, total), id: this.id });
  }
}

/** Counts bytes flowing through and reports them. */
class Counter extends Transform {
  count = 0;
  constructor(private readonly onCount: (n: number) => void) { super(); }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    this.onCount(this.count);
    cb(null, chunk);
  }
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

/** A layer's media type in a Docker v2 schema 2 manifest (the bytes are the same for OCI's). */
function dockerLayerType(mediaType: string): string {
  if (mediaType === MediaTypes.ociLayer || mediaType === MediaTypes.dockerLayer) return MediaTypes.dockerLayer;
  return MediaTypes.dockerLayerGzip;
}

function sha256(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
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

/** The repository as the registry names it, and the scope strings for a token. */
function scopeOf(ref: ImageReference, actions: string): string {
  return `repository:${ref.path}:${actions}`;
}

export class DistributionService {
  readonly client: RegistryClient;
  private readonly images: LocalImages;
  private readonly events: EventBus;
  private readonly sources: BlobSources;
  private readonly downloads = new KeyedMutex();

  constructor(opts: DistributionOptions) {
    this.images = opts.images;
    this.events = opts.events;
    this.client = new RegistryClient({ insecureRegistries: opts.insecureRegistries, certsDir: opts.certsDir });
    this.sources = new BlobSources(opts.imageRoot);
  }

  // ---------- pull ----------

  /**
   * `docker pull`: the manifest (an index resolved to the wanted platform), the config, then the layers not
   * already here, downloaded in parallel and verified, extracted in order. Resolves to the image ID.
   */
  async pull(refString: string, opts: PullOptions = {}): Promise<string> {
    const progress = opts.progress ?? (() => undefined);
    const named = parseNormalizedNamed(refString);
    const ref = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
    const platform = parsePlatform(opts.platform);
    const session = this.client.session(registryHost(ref.domain), opts.auth ?? {});
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
    const existedBefore = this.images.has(id);
    const tagRef = ref.tag !== undefined ? ref : undefined;
    const upToDate = existedBefore && (tagRef ? this.images.has(tagRef.toString()) && this.images.resolveId(tagRef.toString()) === id : true);

    const lease = this.images.beginLease();
    let failed = true;
    try {
      // Which layers are missing: the chain up to each layer decides (a layer is stored on its parent).
      const parents: (string | null)[] = [];
      const missing: number[] = [];
      let parent: string | null = null;
      for (let i = 0; i < diffIds.length; i++) {
        parents.push(parent);
        if (!this.images.hasLayer(parent, diffIds[i]!)) missing.push(i);
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
      const { id: stored } = await this.images.addPulledImage(lease, configBytes, refs);
      for (const r of refs) if (r.digest === undefined) publishImageEvent(this.events, this.images, 'tag', stored, r.familiar());
      publishImageEvent(this.events, this.images, 'pull', stored, refs[0]?.familiar() ?? stored);
      failed = false;
      // Only now: a layer may appear twice in one manifest, and its download serves both.
      for (const i of missing) await fsp.rm(path.join(this.images.partialDir, manifest.layers[i]!.digest.slice(7)), { force: true });
    } finally {
      await this.images.endLease(lease, failed);
    }
    progress({ status: `Digest: ${top.digest}` });
    progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${ref.familiar()}` });
    return id;
  }

  /** `docker pull --all-tags`: every tag of the repository, one after the other. */
  async pullAllTags(refString: string, opts: PullOptions = {}): Promise<void> {
    const repo = parseNormalizedNamed(refString).nameOnly();
    parsePlatform(opts.platform); // a bad platform is refused before the registry is asked
    const session = this.client.session(registryHost(repo.domain), opts.auth ?? {});
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
    const digest = sha256(body);
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
    const actual = sha256(body);
    if (actual !== desc.digest) throw new InvalidParameterError(`image config verification failed for digest ${desc.digest}: got ${actual}`);
    return body;
  }

  /**
   * Downloads a blob into the content store's partial area, continuing what an earlier attempt (or an
   * interrupted pull) left with a Range request; verifies size and digest. Resolves to the file.
   */
  private downloadBlob(session: RegistrySession, ref: ImageReference, desc: Descriptor, scope: string, bar: LayerProgress): Promise<string> {
    return this.downloads.run(desc.digest, async () => {
      await fsp.mkdir(this.images.partialDir, { recursive: true });
      const file = path.join(this.images.partialDir, desc.digest.slice(7));
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
      await this.images.addLayer(parent, source, lease, diffId, desc.digest);
    } catch (err) {
      // Verified bytes that do not unpack to the config's diff ID are bad content: not worth resuming.
      await fsp.rm(file, { force: true });
      if (/^digest mismatch/.test(errorMessage(err))) throw new InvalidParameterError(`layer ${desc.digest} of ${ref.familiar()} does not unpack to the diff ID its image config names: ${errorMessage(err)}`);
      throw err instanceof BerthError ? err : new SystemError(`failed to register layer ${desc.digest}: ${errorMessage(err)}`);
    }
    bar.bytes('Extracting', desc.size, desc.size, true);
    bar.status('Pull complete');
    await this.sources.add(diffId, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: registryHost(ref.domain), repository: ref.path });
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

  // ---------- push ----------

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
      for (const { ref: r } of this.images.index.referencesByName(repo.name)) if (r.tag !== undefined && r.digest === undefined) tags.push(r);
      tags.sort((a, b) => (a.tag! < b.tag! ? -1 : 1));
    }
    if (!tags.length || !tags.every((t) => this.images.has(t.toString()))) {
      throw new NotFoundError(`An image does not exist locally with the tag: ${repo.nameOnly().familiar()}`);
    }
    const host = registryHost(repo.domain);
    const session = this.client.session(host, opts.auth ?? {});
    progress({ status: `The push refers to repository [${repo.nameOnly().toString()}]` });
    for (const t of tags) await this.pushTag(session, host, t, progress);
  }

  private async pushTag(session: RegistrySession, host: string, ref: ImageReference, progress: Progress): Promise<void> {
    const id = this.images.resolveId(ref.toString());
    const lease = this.images.beginLease();
    try {
      const configBytes = await this.images.leaseImage(lease, id);
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
      if (!(await this.blobExists(session, ref, scope, id))) await this.uploadBuffer(session, ref, scope, configBytes, id);
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: configDesc,
        layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
      };
      // Docker writes schema 2 manifests indented with three spaces.
      const body = Buffer.from(JSON.stringify(manifest, null, 3));
      const digest = sha256(body);
      await this.wrap(session.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, {
        scope, body, headers: { 'Content-Type': MediaTypes.dockerManifest },
      }).then((r) => { r.res.resume(); }), ref);
      progress({ status: `${ref.tag}: digest: ${digest} size: ${body.length}` });
      progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: body.length } });
      await this.images.addReferences(id, [ref.nameOnly().withDigest(digest)]);
      this.events.publish('image', 'push', id, { name: ref.familiar() });
    } finally {
      await this.images.endLease(lease, false);
    }
  }

  private async blobExists(session: RegistrySession, ref: ImageReference, scope: string, digest: string): Promise<boolean> {
    const r = await this.wrap(session.request('HEAD', `/v2/${ref.path}/blobs/${digest}`, { scope, ok: (s) => (s >= 200 && s < 300) || s === 404 }), ref);
    r.res.resume();
    return r.res.statusCode !== 404;
  }

  private async pushLayer(session: RegistrySession, host: string, ref: ImageReference, scope: string, diffId: string, bar: LayerProgress): Promise<Descriptor> {
    // A zstd blob cannot go in a Docker v2 schema 2 manifest: such a layer is pushed again as gzip.
    const known = (await this.sources.lookup(diffId, host, ref.path)).filter((k) => k.mediaType !== MediaTypes.ociLayerZstd);
    for (const s of known.filter((k) => k.repository === ref.path)) {
      if (await this.blobExists(session, ref, scope, s.digest)) {
        bar.status('Layer already exists');
        return { mediaType: dockerLayerType(s.mediaType), size: s.size, digest: s.digest };
      }
      await this.sources.forget(diffId, host, ref.path, s.digest);
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
        await this.sources.add(diffId, { ...s, repository: ref.path });
        return desc;
      }
      const loc = r.res.headers.location;
      if (loc) { location = new URL(loc, session.origin).href; break; }
    }
    const tar = await this.images.layerTar(diffId);
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
    await this.sources.add(diffId, { digest, size: hasher.size, mediaType: MediaTypes.dockerLayerGzip, registry: host, repository: ref.path });
    return { mediaType: MediaTypes.dockerLayerGzip, size: hasher.size, digest };
  }

  private async startUpload(session: RegistrySession, ref: ImageReference, scope: string): Promise<string> {
    const r = await this.wrap(session.request('POST', `/v2/${ref.path}/blobs/uploads/`, { scope, body: Buffer.alloc(0) }), ref);
    r.res.resume();
    const loc = r.res.headers.location;
    if (!loc) throw new SystemError(`the registry started an upload without a Location header (${r.url.href})`);
    return new URL(loc, session.origin).href;
  }

  private async uploadBuffer(session: RegistrySession, ref: ImageReference, scope: string, data: Buffer, digest: string): Promise<void> {
    const location = new URL(await this.startUpload(session, ref, scope));
    location.searchParams.set('digest', digest);
    const r = await this.wrap(session.request('PUT', location.pathname + location.search, { scope, body: data, headers: { 'Content-Type': 'application/octet-stream' } }), ref);
    r.res.resume();
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

  // ---------- login / search ----------

  /** POST /auth: checks the credentials against the registry (the ping's challenge answered). */
  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const server = (checkAuthConfig(auth, 'invalid login body').serveraddress ?? '').trim();
    if (!server) throw new InvalidParameterError('serveraddress is required');
    let host = checkedRegistryHost(server.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (host === 'index.docker.io' || host === 'docker.io') host = 'registry-1.docker.io';
    const session = this.client.freshSession(host, auth);
    try {
      const r = await session.login();
      return { Status: 'Login Succeeded', IdentityToken: r.identityToken ?? '' };
    } catch (err) {
      if (err instanceof RegistryResponseError && (err.status === 401 || err.status === 403)) {
        throw new UnauthorizedError(`login attempt to ${session.origin}/v2/ failed with status: ${err.status} ${err.status === 401 ? 'Unauthorized' : 'Forbidden'}`);
      }
      if (err instanceof RegistryUnreachableError || err instanceof RegistryResponseError) throw new SystemError(err.message);
      throw err;
    }
  }

  /** GET /images/search: the repositories of a registry's catalog whose name holds the term. */
  async search(term: string, limit: number, auth: AuthConfig = {}): Promise<SearchResult[]> {
    if (!term) throw new InvalidParameterError('term is required');
    const slash = term.indexOf('/');
    const first = slash === -1 ? '' : term.slice(0, slash);
    const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
    const host = hasHost ? checkedRegistryHost(first) : 'registry-1.docker.io';
    const query = (hasHost ? term.slice(slash + 1) : term).toLowerCase();
    const session = this.client.session(host, auth);
    const names: string[] = [];
    let next: string | null = '/v2/_catalog?n=1000';
    try {
      for (let pages = 0; next && pages < 100; pages++) {
        const r = await session.request('GET', next, { scope: 'registry:catalog:*' });
        const body = JSON.parse((await readSmall(r.res, 16 << 20)).toString('utf8')) as { repositories?: string[] };
        names.push(...(body.repositories ?? []));
        const link = String(r.res.headers.link ?? '');
        next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? null;
      }
    } catch (err) {
      if (err instanceof RegistryResponseError) {
        throw new SystemError(`Error searching ${host}: ${err.message}`);
      }
      if (err instanceof RegistryUnreachableError) throw new SystemError(err.message);
      throw err;
    }
    return names
      .filter((n) => n.toLowerCase().includes(query))
      .slice(0, limit > 0 ? limit : 25)
      .map((n) => ({ name: hasHost ? `${host}/${n}` : n, description: '', star_count: 0, is_official: false, is_automated: false }));
  }

  close(): void {
    this.client.close();
  }
}

