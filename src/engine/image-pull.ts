// docker pull: a manifest (an index resolved to the wanted platform), its config, and the layers not already here,
// each streamed in one pass from the registry to its unpacked directory, in parallel, then committed in order.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import { decompressWithTool } from '../host/decompress';
import { BlobRefusedError, downloadBlob } from './blob-download';
import { decompress } from '../image/unpack';
import type { BlobSources } from '../image/blob-sources';
import { sha256Digest } from '../image/content-store';
import { storeLayerBatch } from '../image/layer-batch';
import { chainIdNext } from '../image/layer-store';
import type { LocalImages, PreparedLayer } from '../image/local-images';
import { hostArchitecture } from '../image/platform';
import { parseNormalizedNamed, truncateId, type ImageReference } from '../wire/reference';
import { RegistryResponseError, RegistryUnreachableError, readSmall, type RegistryClient, type RegistrySession } from '../registry/client';
import { RegistryRepository } from '../registry/repository';
import type { ImageTrust } from '../trust/image-trust';
import { KeyedMutex } from '../util/mutex';
import { PhaseTrace } from '../util/phase-trace';
import { isSha256Digest } from '../wire/digest';
import type { AuthConfig } from '../wire/distribution';
import { MediaTypes, type Descriptor, type ImageConfig, type Index, type Manifest } from '../wire/oci';
import { publishImageEvent, type EventBus } from './events';
import { LayerProgress, type Progress } from './layer-progress';
import { registryHost, scopeOf } from './registry-auth';

/** Docker's default: max-concurrent-downloads 3. */
const DOWNLOAD_CONCURRENCY = 3;
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
  /** Told of the layer bytes each pull receives and each push sends (the metrics), when there is one. */
  meter?: TransferMeter;
  /** The signature policy checked at pull and the signer of pushes. */
  trust: ImageTrust;
  /** A pull's phase timings (manifest, config, layers streamed, sync, commit, record), when tracing is on. */
  trace?: PhaseTrace;
}

/** What the metrics count of pulls and pushes (metrics/engine-metrics.ts implements it). */
export interface TransferMeter {
  /** Compressed layer bytes received from (pull) or sent to (push) a registry. */
  bytes(kind: 'pull' | 'push', n: number): void;
  /** A pull or push is over: `failed` when it ended in an error. */
  finished(kind: 'pull' | 'push', failed: boolean): void;
}

/** A small registry reply read whole; a cut or oversized one is named as what it was (not a bare "aborted"). */
async function readReply(res: Readable, limit: number, what: string, session: RegistrySession): Promise<Buffer> {
  try {
    return await readSmall(res, limit);
  } catch (err) {
    throw new SystemError(`reading ${what} from ${session.origin}: ${err instanceof Error && err.message === 'aborted' ? 'the registry closed the connection before the end of the reply' : errorMessage(err)}`);
  }
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
  private readonly trace: PhaseTrace;
  private pulls = 0;

  constructor(private readonly o: TransferContext) {
    this.trace = o.trace ?? new PhaseTrace();
  }

  /**
   * `docker pull`: the manifest (an index resolved to the wanted platform), the config, then the layers not
   * already here, downloaded in parallel and verified, extracted in order. Resolves to the image ID.
   */
  async pull(refString: string, opts: PullOptions = {}): Promise<string> {
    const traceId = `pull-${++this.pulls}`;
    this.trace.begin('pull', traceId);
    try {
      const id = await this.pullTraced(refString, opts, traceId);
      this.trace.end(traceId, 'record');
      return id;
    } finally {
      this.trace.drop(traceId);
    }
  }

  private async pullTraced(refString: string, opts: PullOptions, traceId: string): Promise<string> {
    const progress = opts.progress ?? (() => undefined);
    const named = parseNormalizedNamed(refString);
    const ref = named.digest !== undefined ? named.nameOnly().withDigest(named.digest) : named.withDefaultTag();
    const platform = parsePlatform(opts.platform);
    const session = this.o.client.session(registryHost(ref.domain), opts.auth ?? {});
    const scope = scopeOf(ref, 'pull');
    const reference = ref.digest ?? ref.tag!;

    const top = await this.fetchManifest(session, ref, reference, scope);
    // The policy decides on the digest the reference resolved to, before any manifest, config or layer is stored.
    try {
      await this.o.trust.admit(ref, top.digest, new RegistryRepository(session, ref.path));
    } catch (err) {
      throw this.pullError(err, ref);
    }
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
    this.trace.mark(traceId, 'manifest');
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
    this.trace.mark(traceId, 'config');
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
      // Each layer in one pass (download, verify, decompress, unpack recording the tar), a bounded number at once;
      // none is visible until all are through, flushed to disk by one sync, and committed in layer order. On
      // failure every downloaded blob stays in the partial area: the next pull takes it from there.
      const sources = missing.map((i) => ({ index: i, parent: parents[i]!, diffId: diffIds[i]!, compressedDigest: manifest.layers[i]!.digest }));
      await storeLayerBatch(this.o.images, lease, sources, {
        concurrency: DOWNLOAD_CONCURRENCY,
        prepare: (s, prepare) => this.fetchLayer(session, ref, manifest.layers[s.index]!, scope, bars[s.index]!, prepare),
        beforeSync: async () => {
          // The compressed downloads go before the sync: deleted while still in the page cache, they are never written.
          for (const i of missing) await fsp.rm(this.partialFile(manifest.layers[i]!), { force: true });
          this.trace.mark(traceId, 'layers');
        },
        synced: () => this.trace.mark(traceId, 'sync'),
        committed: async (s) => {
          bars[s.index]!.status('Pull complete');
          const desc = manifest.layers[s.index]!;
          await this.o.sources.add(s.diffId, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: registryHost(ref.domain), repository: ref.path });
        },
      });
      this.trace.mark(traceId, 'commit');
      const refs: ImageReference[] = [];
      if (tagRef) refs.push(tagRef);
      refs.push(ref.nameOnly().withDigest(top.digest));
      const { id: stored } = await this.o.images.addPulledImage(lease, configBytes, refs);
      for (const r of refs) if (r.digest === undefined) publishImageEvent(this.o.events, this.o.images, 'tag', stored, r.familiar());
      publishImageEvent(this.o.events, this.o.images, 'pull', stored, refs[0]?.familiar() ?? stored);
      failed = false;
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

  private partialFile(desc: Descriptor): string {
    return path.join(this.o.images.partialDir, desc.digest.slice(7));
  }

  /**
   * One layer in one pass: the blob streamed from the registry (continuing what an earlier pull kept, kept in
   * turn for the next), verified by digest as it passes, decompressed and unpacked with its tar-split record.
   * The same blob twice in a manifest, or in two pulls at once, is downloaded once: the later one reads it back
   * from the partial area.
   */
  private fetchLayer(session: RegistrySession, ref: ImageReference, desc: Descriptor, scope: string, bar: LayerProgress, prepare: (tar: Readable) => Promise<PreparedLayer>): Promise<PreparedLayer> {
    return this.downloads.run(desc.digest, async () => {
      const download = downloadBlob({
        session, url: `/v2/${ref.path}/blobs/${desc.digest}`, scope, desc, file: this.partialFile(desc),
        onBytes: (n) => bar.bytes('Downloading', n, desc.size),
        onNetworkBytes: (n) => this.o.meter?.bytes('pull', n),
      });
      download.done.catch(() => undefined);
      // Node has no zstd: Debian's zstd decompresses (the layer store then sees a plain tar).
      const tar = desc.mediaType === MediaTypes.ociLayerZstd ? decompressWithTool('zstd', download.stream) : await decompress(download.stream);
      let layer: PreparedLayer;
      try {
        layer = await prepare(tar);
      } catch (err) {
        tar.destroy();
        download.stream.destroy();
        // A cut or corrupt download is named as such, not as the gzip or tar error it caused downstream.
        const downloadError = await download.done.then(() => undefined, (e: unknown) => e);
        if (downloadError !== undefined) throw this.downloadError(downloadError, desc, ref);
        // Verified bytes that do not unpack to the config's diff ID are bad content: not worth resuming.
        await fsp.rm(this.partialFile(desc), { force: true });
        if (/^layer diff ID mismatch/.test(errorMessage(err))) {
          throw new InvalidParameterError(`layer ${desc.digest} of ${ref.familiar()} does not unpack to the diff ID its image config names: ${errorMessage(err).replace(/^layer diff ID mismatch/, 'digest mismatch')}`);
        }
        throw err instanceof BerthError ? err : new SystemError(`failed to register layer ${desc.digest}: ${errorMessage(err)}`);
      }
      try {
        await download.done;
      } catch (err) {
        await layer.abort();
        throw this.downloadError(err, desc, ref);
      }
      bar.status('Verifying Checksum');
      bar.status('Download complete');
      bar.bytes('Extracting', desc.size, desc.size, true);
      return layer;
    });
  }

  private downloadError(err: unknown, desc: Descriptor, ref: ImageReference): Error {
    if (err instanceof BlobRefusedError) return this.pullError(err.refusal, ref);
    if (err instanceof InvalidParameterError) return err;
    return new SystemError(`failed to download layer ${desc.digest} of ${ref.familiar()}: ${errorMessage(err).replace(/^failed to download layer \S+: /, '')}`);
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
