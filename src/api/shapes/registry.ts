// Declared shapes of who a request acts as: moby's registry.AuthConfig, as POST /auth's body and as the
// X-Registry-Auth header (base64url JSON) of pull, push and search.
import { InvalidParameterError } from '../../errdefs';
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
