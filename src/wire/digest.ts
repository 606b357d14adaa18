// Content digests, Docker's and OCI's `algorithm:encoded` (go-digest's grammar), parsed here for every caller;
// Berth computes, stores and verifies sha256 only.

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
/** Any algorithm's digest as the distribution spec's grammar has it (an unknown algorithm is "unsupported", not "invalid"). */
const ANY_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `sha256:` and 64 lowercase hex digits. */
export function isSha256Digest(s: unknown): s is string {
  return typeof s === 'string' && SHA256_DIGEST.test(s);
}

/** The 64 lowercase hex digits of a sha256 digest, as content is named on disk (and full image and container IDs). */
export function isSha256Hex(s: string): boolean {
  return SHA256_HEX.test(s);
}

/** Shaped as a digest of some algorithm. */
export function isDigestLike(s: string): boolean {
  return ANY_DIGEST.test(s);
}
