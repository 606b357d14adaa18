// Manifest parsing and checks for the registry: media types, the descriptors a manifest references, names, tags, digests.
import { MediaTypes, type Descriptor, type Index, type Manifest } from '../wire/oci';
import type { ErrorCode } from '../wire/distribution';
import { isDigestLike, isSha256Digest } from '../wire/digest';

/** The manifest media types the registry stores. */
export const MANIFEST_TYPES: readonly string[] = [
  MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex,
];

const INDEX_TYPES: readonly string[] = [MediaTypes.dockerManifestList, MediaTypes.ociIndex];

/** The largest manifest accepted (the spec asks registries to take at least 4 MB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** An error the registry answers with its spec code (the server turns it into the JSON error body). */
export class RegistryError extends Error {
  constructor(readonly code: ErrorCode, message?: string, readonly detail?: unknown, readonly status?: number) {
    super(message ?? code);
    this.name = 'RegistryError';
  }
}

export function isValidName(name: string): boolean {
  return name.length <= 255 && NAME_RE.test(name);
}

export function isValidTag(tag: string): boolean { return TAG_RE.test(tag); }

/** Only sha256 is stored; other algorithms are refused as unsupported digests. */
export function assertSha256(digest: string, what = 'digest'): void {
  if (!isSha256Digest(digest)) {
    throw new RegistryError('DIGEST_INVALID', `invalid ${what} ${JSON.stringify(digest)}: only sha256 digests of 64 lowercase hex characters are supported`, { digest });
  }
}

export interface ParsedManifest {
  mediaType: string;
  /** The blobs it needs (config and layers); foreign layers with URLs excluded. */
  blobs: Descriptor[];
  /** The manifests it needs (index and manifest list children). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** For the referrers API: the manifest's artifactType, else its config's media type (image manifests). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The media type of stored manifest bytes: the `mediaType` field, else inferred from its shape (OCI). */
export function detectMediaType(body: Buffer): string {
  try {
    const v = JSON.parse(body.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
    if (typeof v.mediaType === 'string' && v.mediaType) return v.mediaType;
    return Array.isArray(v.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
  } catch {
    return MediaTypes.ociManifest;
  }
}

/** Content-Type without parameters, lower-cased. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function descriptor(v: unknown, where: string): Descriptor {
  const d = v as Descriptor;
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string' || typeof d.mediaType !== 'string' || typeof d.size !== 'number') {
    throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${where} is not a descriptor with mediaType, digest and size`);
  }
  if (!isDigestLike(d.digest)) throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${where} has an invalid digest ${JSON.stringify(d.digest)}`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${where} has an invalid size`);
  return d;
}

/**
 * Checks a pushed manifest: a known media type (from Content-Type, or its own mediaType field), JSON of
 * schema version 2 whose mediaType agrees, well-formed descriptors. Returns what it references.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new RegistryError('MANIFEST_INVALID', `manifest invalid: larger than ${MAX_MANIFEST_BYTES} bytes`, undefined, 413);
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RegistryError('MANIFEST_INVALID', 'manifest invalid: not a JSON object');
  const declared = typeof v.mediaType === 'string' ? v.mediaType : undefined;
  let mediaType = bareMediaType(contentType);
  if (!mediaType || mediaType === 'application/octet-stream' || mediaType === 'application/json') {
    mediaType = declared ?? (Array.isArray(v.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest);
  }
  if (!MANIFEST_TYPES.includes(mediaType)) {
    throw new RegistryError('MANIFEST_INVALID', `manifest invalid: unsupported media type ${JSON.stringify(mediaType)}`, { mediaType });
  }
  if (declared !== undefined && declared !== mediaType) {
    throw new RegistryError('MANIFEST_INVALID', `manifest invalid: mediaType ${JSON.stringify(declared)} does not match Content-Type ${JSON.stringify(mediaType)}`);
  }
  if (v.schemaVersion !== 2) throw new RegistryError('MANIFEST_INVALID', 'manifest invalid: schemaVersion must be 2');
  const out: ParsedManifest = { mediaType, blobs: [], manifests: [] };
  if (v.subject !== undefined) out.subject = descriptor(v.subject, 'subject');
  if (v.annotations && typeof v.annotations === 'object') out.annotations = v.annotations as Record<string, string>;
  if (typeof v.artifactType === 'string' && v.artifactType) out.artifactType = v.artifactType;
  if (INDEX_TYPES.includes(mediaType)) {
    const idx = v as unknown as Index;
    if (!Array.isArray(idx.manifests)) throw new RegistryError('MANIFEST_INVALID', 'manifest invalid: an index needs a manifests array');
    idx.manifests.forEach((m, i) => out.manifests.push(descriptor(m, `manifests[${i}]`)));
    return out;
  }
  const m = v as unknown as Manifest;
  const config = descriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw new RegistryError('MANIFEST_INVALID', 'manifest invalid: layers must be an array');
  out.blobs.push(config);
  m.layers.forEach((l, i) => {
    const d = descriptor(l, `layers[${i}]`);
    // Foreign layers (Windows base layers) are fetched from their URLs, not from the registry.
    if (!(d.urls?.length && (d.mediaType === MediaTypes.dockerForeignLayerGzip || d.mediaType.includes('nondistributable')))) out.blobs.push(d);
  });
  out.artifactType ??= config.mediaType;
  return out;
}

/**
 * Whether an Accept header allows a manifest type. A client that names no manifest type at all (no header,
 * "*\/*", "application/json") gets what is stored; one that lists manifest types gets only those.
 */
export function accepts(accept: string | string[] | undefined, mediaType: string): boolean {
  const values = (Array.isArray(accept) ? accept : [accept ?? '']).flatMap((a) => a.split(',')).map((a) => bareMediaType(a)).filter(Boolean);
  const named = values.filter((a) => a.startsWith('application/vnd.'));
  if (!named.length) return true;
  return named.includes(mediaType) || values.includes('*/*');
}
