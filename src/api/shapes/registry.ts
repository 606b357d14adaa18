// Declared shapes of who a request acts as: moby's registry.AuthConfig, as POST /auth's body and as the
// X-Registry-Auth header (base64url JSON) of pull, push and search; and the signing key a push may carry.
import type { KeyObject } from 'node:crypto';
import { InvalidParameterError } from '../../errdefs';
import { decryptPrivateKey } from '../../trust/sigstore-key';
import type { AuthConfig } from '../../wire/distribution';
import { decode, str, struct } from './decode';

/** registry.AuthConfig (its JSON names are lower-case). */
export const authConfig = struct('AuthConfig', {
  username: str, password: str, auth: str, email: str, serveraddress: str, identitytoken: str, registrytoken: str,
}, 'registry.AuthConfig');

/** X-Registry-Auth decoded: absent, empty or JSON null is anonymous; anything else must be an AuthConfig. */
export function registryAuthHeader(header: string | string[] | undefined): AuthConfig {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
  } catch {
    throw new InvalidParameterError('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
  try {
    return (decode(authConfig, parsed) ?? {}) as AuthConfig;
  } catch (err) {
    throw new InvalidParameterError(`invalid X-Registry-Auth header: ${(err as Error).message}`);
  }
}

/** The X-Berth-Sigstore-Sign header of POST /images/{name}/push: base64url JSON of the key file's PEM and its passphrase. */
export const SIGSTORE_SIGN_HEADER = 'x-berth-sigstore-sign';

export const sigstoreSigning = struct('SigstoreSigning', { privateKey: str, passphrase: str }, 'SigstoreSigning');

/** The signing key a push carries, decrypted here so a wrong passphrase is a 400 before anything is pushed; undefined when absent. */
export async function sigstoreSignHeader(header: string | string[] | undefined): Promise<KeyObject | undefined> {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
  } catch {
    throw new InvalidParameterError('invalid X-Berth-Sigstore-Sign header: not base64-encoded JSON');
  }
  let body: { privateKey?: string; passphrase?: string };
  try {
    body = (decode(sigstoreSigning, parsed) ?? {}) as typeof body;
  } catch (err) {
    throw new InvalidParameterError(`invalid X-Berth-Sigstore-Sign header: ${(err as Error).message}`);
  }
  if (!body.privateKey) throw new InvalidParameterError('invalid X-Berth-Sigstore-Sign header: privateKey (the encrypted key PEM) is required');
  return decryptPrivateKey(body.privateKey, Buffer.from(body.passphrase ?? '', 'utf8'), 'the signing key of X-Berth-Sigstore-Sign');
}
