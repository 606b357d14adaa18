// Sigstore signatures kept in a registry beside the image, as cosign and containers/image keep them: an OCI manifest under
// the tag "sha256-<hex>.sig" whose layers are simple-signing payloads carrying their signature as an annotation. Berth's
// manifest also names the image as its `subject`, so registries with the referrers API (Berth's own) list it there too.
import { SystemError } from '../errdefs';
import type { RepositoryDocuments } from '../registry/repository';
import {
  SIGSTORE_ARTIFACT_TYPE, SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION, sigstoreAttachmentTag,
} from '../wire/distribution';
import { MediaTypes, type Descriptor, type Manifest } from '../wire/oci';
import type { StoredSignature } from './policy';

/** containers/image reads at most this many bytes of a payload; so does Berth. */
const MAX_PAYLOAD = 4 << 20;
/** A signature manifest with more layers than this is not read further (each is a request). */
const MAX_SIGNATURES = 64;

function parseManifest(body: Buffer): Manifest | null {
  try {
    const m = JSON.parse(body.toString('utf8')) as Manifest;
    return m && typeof m === 'object' && Array.isArray(m.layers) ? m : null;
  } catch {
    return null;
  }
}

async function signaturesOf(repo: RepositoryDocuments, manifest: Manifest): Promise<StoredSignature[]> {
  // The newest (appended last) when there are more: a rotated key's signatures come after the old key's.
  const layers = manifest.layers.slice(-MAX_SIGNATURES).filter((l) => l.mediaType === SIGSTORE_PAYLOAD_MEDIA_TYPE
    && typeof l.annotations?.[SIGSTORE_SIGNATURE_ANNOTATION] === 'string' && Number.isSafeInteger(l.size) && l.size <= MAX_PAYLOAD);
  // Fetched together: an image pushed and signed many times has many small payloads, each a round trip.
  return Promise.all(layers.map(async (l) => ({ payload: await repo.getBlob(l.digest, MAX_PAYLOAD), signature: l.annotations![SIGSTORE_SIGNATURE_ANNOTATION]! })));
}

/**
 * The signatures stored for `manifestDigest`: those under the attachment tag, else (a registry or a signer that
 * keeps them only as referrers) those the referrers API lists.
 */
export async function readSignatures(repo: RepositoryDocuments, manifestDigest: string): Promise<StoredSignature[]> {
  const tagged = await repo.getManifest(sigstoreAttachmentTag(manifestDigest), MediaTypes.ociManifest);
  if (tagged) {
    const m = parseManifest(tagged);
    if (!m) throw new SystemError(`the signature manifest ${sigstoreAttachmentTag(manifestDigest)} is not an OCI manifest`);
    return signaturesOf(repo, m);
  }
  const referrers = await repo.referrers(manifestDigest, SIGSTORE_ARTIFACT_TYPE);
  // Each rewrite of the attachment (one more signature) is another referrer listing the earlier ones again.
  const out = new Map<string, StoredSignature>();
  for (const d of (referrers ?? []).slice(0, MAX_SIGNATURES)) {
    const body = await repo.getManifest(d.digest, MediaTypes.ociManifest);
    const m = body && parseManifest(body);
    if (m) for (const s of await signaturesOf(repo, m)) out.set(`${s.signature}\0${s.payload.toString('base64')}`, s);
  }
  return [...out.values()];
}

/**
 * Adds one signature of the image `subject` (its manifest's descriptor): the payload is uploaded, then the
 * attachment manifest is written again with every signature it had plus this one (containers/image's way).
 * Resolves to whether the registry indexed it as a referrer.
 */
export async function writeSignature(repo: RepositoryDocuments, subject: Descriptor, sig: StoredSignature): Promise<{ referrer: boolean }> {
  const tag = sigstoreAttachmentTag(subject.digest);
  const existing = await repo.getManifest(tag, MediaTypes.ociManifest);
  const layers: Descriptor[] = (existing && parseManifest(existing)?.layers.filter((l) => l.mediaType === SIGSTORE_PAYLOAD_MEDIA_TYPE)) || [];
  const payload = await repo.putBlob(sig.payload);
  const layer: Descriptor = { mediaType: SIGSTORE_PAYLOAD_MEDIA_TYPE, digest: payload.digest, size: payload.size, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: sig.signature } };
  // The same payload signed again (the same key, the same second) replaces its layer rather than doubling it.
  const all = [...layers.filter((l) => l.digest !== layer.digest || l.annotations?.[SIGSTORE_SIGNATURE_ANNOTATION] !== sig.signature), layer];
  // The config cosign writes: an empty image config whose diff IDs are the payloads' digests.
  const config = Buffer.from(JSON.stringify({ architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: all.map((l) => l.digest) }, config: {} }));
  const configDesc = await repo.putBlob(config);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    artifactType: SIGSTORE_ARTIFACT_TYPE,
    config: { mediaType: MediaTypes.ociConfig, digest: configDesc.digest, size: configDesc.size },
    layers: all,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  const { subjectIndexed } = await repo.putManifest(tag, Buffer.from(JSON.stringify(manifest)), MediaTypes.ociManifest);
  return { referrer: subjectIndexed };
}
