// The signed statement of a sigstore image signature: cosign's "simple signing" JSON payload naming the manifest digest
// and the docker reference, and its ECDSA P-256 / SHA-256 signature (ASN.1 DER, base64 in the layer's annotation).
import * as crypto from 'node:crypto';
import { isSha256Digest } from '../wire/digest';
import { SIGSTORE_PAYLOAD_TYPE, type SimpleSigningPayload } from '../wire/distribution';

/** Why a signature was not accepted; the policy turns it into the pull's error. */
export class SignatureRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureRejected';
  }
}

/** The payload for `dockerReference` (a full name with its tag, "host/repo:tag") at `manifestDigest`. */
export function buildPayload(dockerReference: string, manifestDigest: string, creator: string, now = new Date()): Buffer {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: SIGSTORE_PAYLOAD_TYPE,
    },
    optional: { creator, timestamp: Math.floor(now.getTime() / 1000) },
  };
  return Buffer.from(JSON.stringify(payload));
}

/** The base64 signature of `payload` (what the `dev.cosignproject.cosign/signature` annotation carries). */
export function signPayload(payload: Buffer, privateKey: crypto.KeyObject): string {
  return crypto.sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' }).toString('base64');
}

function exactObject(v: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SignatureRejected(`${what} is not a JSON object`);
  const got = Object.keys(v);
  for (const k of got) if (!keys.includes(k)) throw new SignatureRejected(`${what} has an unknown field ${JSON.stringify(k)}`);
  for (const k of keys) if (!got.includes(k)) throw new SignatureRejected(`${what} has no field ${JSON.stringify(k)}`);
  return v as Record<string, unknown>;
}

function string(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new SignatureRejected(`${what} is not a string`);
  return v;
}

/** What a verified payload says: the digest and reference it vouches for. */
export interface SignedClaims { manifestDigest: string; dockerReference: string }

/**
 * Checks `signatureB64` over `payload` with one of `publicKeys`, then reads the payload as strictly as
 * containers/image does (the critical section's fields exactly; the optional section may hold anything).
 */
export function verifySignature(payload: Buffer, signatureB64: string, publicKeys: readonly crypto.KeyObject[]): SignedClaims {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureB64)) throw new SignatureRejected('the signature annotation is not base64');
  const signature = Buffer.from(signatureB64, 'base64');
  const verified = publicKeys.some((key) => {
    try {
      return crypto.verify('sha256', payload, { key, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  });
  if (!verified) throw new SignatureRejected('the signature was not made by the trusted key (or its payload was altered)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new SignatureRejected('the signed payload is not JSON');
  }
  const top = exactObject(parsed, ['critical', 'optional'], 'the signed payload');
  const critical = exactObject(top.critical, ['type', 'image', 'identity'], 'the payload\'s critical section');
  if (critical.type !== SIGSTORE_PAYLOAD_TYPE) throw new SignatureRejected(`the payload's type is ${JSON.stringify(critical.type)}, not ${JSON.stringify(SIGSTORE_PAYLOAD_TYPE)}`);
  const image = exactObject(critical.image, ['docker-manifest-digest'], 'the payload\'s image section');
  const identity = exactObject(critical.identity, ['docker-reference'], 'the payload\'s identity section');
  const manifestDigest = string(image['docker-manifest-digest'], 'the signed manifest digest');
  if (!isSha256Digest(manifestDigest)) throw new SignatureRejected(`the signed manifest digest ${JSON.stringify(manifestDigest)} is not a sha256 digest`);
  return { manifestDigest, dockerReference: string(identity['docker-reference'], 'the signed docker reference') };
}
