// The OCI distribution spec's wire types: error codes and bodies, tag and catalog lists, token responses, auth.
import type { Descriptor } from './oci';

/** The `Docker-Distribution-API-Version` header every response of a v2 registry carries. */
export const API_VERSION_HEADER = 'Docker-Distribution-API-Version';
export const API_VERSION_VALUE = 'registry/2.0';

/** The spec's error codes (code-1..code-14) with the HTTP status the reference registry answers them with. */
export const ErrorCodes = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'The operation is unsupported.' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorItem { code: string; message?: string; detail?: unknown }

/** The JSON body of every 4xx/5xx answer. */
export interface ErrorBody { errors: ErrorItem[] }

/** GET /v2/<name>/tags/list */
export interface TagList { name: string; tags: string[] }

/** GET /v2/_catalog */
export interface Catalog { repositories: string[] }

/** The token endpoint's answer (Docker's token spec; `access_token` for OAuth2 clients). */
export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

/** One entry of a token's `access` claim and of a challenge's scope: "repository:foo/bar:pull,push". */
export interface ResourceActions { type: string; name: string; actions: string[] }

/** The claims of the JWTs the registry's token endpoint issues. */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: ResourceActions[];
}

/** A referrers response entry: a descriptor with the referring manifest's artifactType and annotations. */
export interface ReferrerDescriptor extends Descriptor { artifactType?: string }

/**
 * Docker's X-Registry-Auth / POST /auth body (types.AuthConfig); `identitytoken` replaces the password
 * once a registry has issued a refresh token.
 */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** GET /images/search entries (registry.SearchResult). */
export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

/** Parses "repository:foo/bar:pull,push" (the name may hold colons only for registry:catalog:*). */
export function parseScope(scope: string): ResourceActions | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter(Boolean);
  if (!name || !actions.length) return null;
  return { type, name, actions };
}

export function formatScope(a: ResourceActions): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

// ---------- sigstore signatures in a registry (cosign's and containers/image's layout) ----------

/** The simple-signing payload's `critical.type` every sigstore image signature carries. */
export const SIGSTORE_PAYLOAD_TYPE = 'cosign container image signature';
/** The media type of each signature layer: the payload's bytes. */
export const SIGSTORE_PAYLOAD_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** The layer annotation holding the base64 ECDSA signature of the payload. */
export const SIGSTORE_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** The artifactType cosign gives a signature manifest found through the referrers API. */
export const SIGSTORE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/** cosign's simple-signing payload. */
export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: typeof SIGSTORE_PAYLOAD_TYPE;
  };
  optional: { creator?: string; timestamp?: number } | null;
}

/** The tag the signatures of `manifestDigest` live under: "sha256-<hex>.sig". */
export function sigstoreAttachmentTag(manifestDigest: string): string {
  return `${manifestDigest.replace(':', '-')}.sig`;
}
