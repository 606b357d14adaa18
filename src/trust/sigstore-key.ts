// Sigstore/cosign key files: the encrypted private key PEM (scrypt + NaCl secretbox around a PKCS#8 ECDSA P-256 key, as
// go-securesystemslib's `encrypted` package writes it) and the public key PEM (PKIX), the files skopeo and podman sign with.
import * as crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { InvalidParameterError } from '../errdefs';

/** What cosign wrote before 2.0 and the only type containers/image 5.23 (Debian's skopeo 1.9) reads; cosign reads it still. */
export const COSIGN_PRIVATE_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';
/** What cosign 2.x writes; read as well. */
export const SIGSTORE_PRIVATE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';

/**
 * The scrypt costs go-securesystemslib accepts (it refuses any other, so a key file cannot make the reader spend
 * unbounded memory): legacy (N=2^14), standard (N=2^15, what it writes) and OWASP's (N=2^16).
 */
const ACCEPTED_SCRYPT = [{ N: 16384, r: 8, p: 1 }, { N: 32768, r: 8, p: 1 }, { N: 65536, r: 8, p: 1 }] as const;
const WRITE_SCRYPT = ACCEPTED_SCRYPT[1];
const KEY_BYTES = 32;
const SALT_BYTES = 32;

/** The JSON inside the encrypted PEM (Go encodes []byte as standard base64). */
interface EncryptedKeyJson {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: 'nacl/secretbox'; nonce: string };
  ciphertext: string;
}

export interface SigstoreKeyPair {
  /** The encrypted private key PEM (mode 0600 when written). */
  privatePem: string;
  publicPem: string;
}

/** scrypt off the event loop (half a second of CPU at N=2^15: berthd keeps serving meanwhile). */
function scryptKey(passphrase: Buffer, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Node's default maxmem (32 MiB) is exactly 128*N*r for N=2^15: leave room for the larger accepted cost.
    crypto.scrypt(passphrase, salt, KEY_BYTES, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function pem(type: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${type}-----\n${b64}-----END ${type}-----\n`;
}

/** The first PEM block of `text`: its type and bytes. */
function decodePem(text: string, what: string): { type: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new InvalidParameterError(`${what}: not a PEM file`);
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

/** Encrypts a PKCS#8 key the way go-securesystemslib's encrypted.Encrypt does. */
export async function encryptPrivateKey(pkcs8: Buffer, passphrase: Buffer): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const nonce = crypto.randomBytes(nacl.secretbox.nonceLength);
  const key = await scryptKey(passphrase, salt, WRITE_SCRYPT);
  const sealed = nacl.secretbox(pkcs8, nonce, key);
  const body: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { ...WRITE_SCRYPT }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  return pem(COSIGN_PRIVATE_KEY_PEM, Buffer.from(JSON.stringify(body)));
}

function field(obj: unknown, key: string, what: string): unknown {
  if (!obj || typeof obj !== 'object' || !(key in obj)) throw new InvalidParameterError(`${what}: the encrypted key has no ${key}`);
  return (obj as Record<string, unknown>)[key];
}

function base64Field(obj: unknown, key: string, what: string): Buffer {
  const v = field(obj, key, what);
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new InvalidParameterError(`${what}: ${key} is not base64`);
  return Buffer.from(v, 'base64');
}

/** Decrypts an encrypted sigstore/cosign private key PEM; a wrong passphrase is named as such. */
export async function decryptPrivateKey(pemText: string, passphrase: Buffer, what = 'private key'): Promise<crypto.KeyObject> {
  const { type, der } = decodePem(pemText, what);
  if (type !== COSIGN_PRIVATE_KEY_PEM && type !== SIGSTORE_PRIVATE_KEY_PEM) {
    throw new InvalidParameterError(`${what}: unsupported PEM type ${JSON.stringify(type)} (expected ${COSIGN_PRIVATE_KEY_PEM} or ${SIGSTORE_PRIVATE_KEY_PEM})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(der.toString('utf8'));
  } catch {
    throw new InvalidParameterError(`${what}: the encrypted key is not JSON`);
  }
  const kdf = field(json, 'kdf', what);
  const cipher = field(json, 'cipher', what);
  if (field(kdf, 'name', what) !== 'scrypt') throw new InvalidParameterError(`${what}: unsupported key derivation ${JSON.stringify(field(kdf, 'name', what))}`);
  if (field(cipher, 'name', what) !== 'nacl/secretbox') throw new InvalidParameterError(`${what}: unsupported cipher ${JSON.stringify(field(cipher, 'name', what))}`);
  const params = field(kdf, 'params', what) as Record<string, unknown>;
  const cost = ACCEPTED_SCRYPT.find((c) => params && c.N === params.N && c.r === params.r && c.p === params.p);
  if (!cost) throw new InvalidParameterError(`${what}: scrypt parameters ${JSON.stringify(params)} are not one of the accepted sets`);
  const salt = base64Field(kdf, 'salt', what);
  const nonce = base64Field(cipher, 'nonce', what);
  const sealed = base64Field(json, 'ciphertext', what);
  if (nonce.length !== nacl.secretbox.nonceLength) throw new InvalidParameterError(`${what}: the nonce is not ${nacl.secretbox.nonceLength} bytes`);
  const opened = nacl.secretbox.open(sealed, nonce, await scryptKey(passphrase, salt, cost));
  if (!opened) throw new InvalidParameterError(`${what}: cannot decrypt: wrong passphrase or damaged file`);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new InvalidParameterError(`${what}: the decrypted key is not PKCS#8: ${(err as Error).message}`);
  }
  checkP256(key, what);
  return key;
}

function checkP256(key: crypto.KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new InvalidParameterError(`${what}: only ECDSA P-256 keys are supported (this is ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''})`);
  }
}

/** A public key PEM ("PUBLIC KEY", PKIX) as cosign and containers/image read it. */
export function parsePublicKey(pemText: string, what = 'public key'): crypto.KeyObject {
  const { type, der } = decodePem(pemText, what);
  if (type !== 'PUBLIC KEY') throw new InvalidParameterError(`${what}: unsupported PEM type ${JSON.stringify(type)} (expected PUBLIC KEY)`);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (err) {
    throw new InvalidParameterError(`${what}: not a PKIX public key: ${(err as Error).message}`);
  }
  checkP256(key, what);
  return key;
}

/** A new ECDSA P-256 key pair, the private key encrypted with `passphrase` (cosign generate-key-pair's files). */
export async function generateKeyPair(passphrase: Buffer): Promise<SigstoreKeyPair> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: await encryptPrivateKey(privateKey.export({ format: 'der', type: 'pkcs8' }), passphrase),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
