// Swarm join tokens (SWMTKN-1-<CA digest>-<secret>): made, parsed and checked as swarmkit does, so a joiner can pin
// the cluster CA from the token alone and a manager can tell a worker token from a manager token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'SWMTKN';
const DIGEST_LENGTH = 50;
const SECRET_LENGTH = 25;

export interface ParsedToken {
  /** The base36 sha256 of the PEM CA bundle the cluster trusts. */
  caDigest: string;
  secret: string;
}

function base36(bytes: Buffer, width: number): string {
  return BigInt(`0x${bytes.toString('hex')}`).toString(36).padStart(width, '0');
}

/** The token's first part: sha256 of the trust root exactly as PEM text (TLSInfo.TrustRoot), base36, 50 wide. */
export function caDigest(trustRootPem: string): string {
  return base36(createHash('sha256').update(trustRootPem).digest(), DIGEST_LENGTH);
}

export function generateJoinToken(trustRootPem: string): string {
  return `${PREFIX}-1-${caDigest(trustRootPem)}-${base36(randomBytes(16), SECRET_LENGTH)}`;
}

/** A token with the same CA digest and a new secret (rotateWorkerToken / rotateManagerToken). */
export function rotateJoinToken(trustRootPem: string): string {
  return generateJoinToken(trustRootPem);
}

/** undefined for anything not shaped as a version-1 token (swarmkit's parser: 4 parts, exact widths). */
export function parseJoinToken(token: string): ParsedToken | undefined {
  const parts = token.split('-');
  if (parts.length !== 4 || parts[0] !== PREFIX || parts[1] !== '1') return undefined;
  const [, , digest, secret] = parts as [string, string, string, string];
  if (digest.length !== DIGEST_LENGTH || secret.length !== SECRET_LENGTH) return undefined;
  if (!/^[0-9a-z]+$/.test(digest) || !/^[0-9a-z]+$/.test(secret)) return undefined;
  return { caDigest: digest, secret };
}

/** Which role a presented token grants, comparing in constant time; undefined when it matches neither. */
export function roleOfToken(presented: string, tokens: { Worker: string; Manager: string }): 'worker' | 'manager' | undefined {
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  if (same(presented, tokens.Manager)) return 'manager';
  if (same(presented, tokens.Worker)) return 'worker';
  return undefined;
}

/** The text every refused join gets (400 InvalidArgument in moby). */
export const INVALID_JOIN_TOKEN = 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster';
