// Swarm autolock keys (swarmkit's ca/keyreadwriter + manager/encryption, our own envelope): the unlock key as the
// user sees it (SWMKEY-1-<base64 of 32 bytes>), the key-encryption key derived from it, the cluster's data-encryption
// key, and sealing with either (AES-256-GCM). See docs/decisions/0017-swarm-on-etcd.md (Autolock) for
// what is sealed with what.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const UNLOCK_PREFIX = 'SWMKEY-1-';
const SEALED_PREFIX = 'berth-sealed-1';

/** A fresh unlock key: 32 random bytes, base64 without padding (Go's RawStdEncoding), as swarmkit's. */
export function generateUnlockKey(): string {
  return UNLOCK_PREFIX + randomBytes(32).toString('base64').replace(/=+$/, '');
}

/** The 32 bytes behind an unlock key; undefined when it is not shaped as one. */
export function parseUnlockKey(key: string): Buffer | undefined {
  if (!key.startsWith(UNLOCK_PREFIX)) return undefined;
  const body = key.slice(UNLOCK_PREFIX.length);
  if (!/^[A-Za-z0-9+/]{43}$/.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/**
 * The key-encryption key of an unlock key: HKDF-SHA256 over its bytes, so the key the user holds is never used as
 * a cipher key itself and the same unlock key gives a different key for any other purpose we may add.
 */
export function keyEncryptionKey(unlockKey: string): Buffer | undefined {
  const raw = parseUnlockKey(unlockKey);
  return raw && Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'berth swarm manager kek', 32));
}

/** A cluster data-encryption key (random, 32 bytes): seals the CA key and the unlock key in the store. */
export function generateDataKey(): Buffer {
  return randomBytes(32);
}

/** `berth-sealed-1:<nonce>:<tag>:<ciphertext>` (base64 each): AES-256-GCM, authenticated, a fresh nonce per seal. */
export function seal(key: Buffer, plaintext: string | Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [SEALED_PREFIX, nonce.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

export function isSealed(text: string): boolean {
  return text.startsWith(`${SEALED_PREFIX}:`);
}

/** The plaintext of a sealed text; undefined when the key is not the one it was sealed with (or it was altered). */
export function open(key: Buffer, sealed: string): Buffer | undefined {
  const [prefix, nonce, tag, body] = sealed.split(':');
  if (prefix !== SEALED_PREFIX || !nonce || !tag || body === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
  } catch {
    return undefined;
  }
}
