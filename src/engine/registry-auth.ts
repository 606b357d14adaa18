// Whom the engine talks to and as whom: Docker's X-Registry-Auth header and login bodies decoded into checked
// AuthConfigs, the registry host a reference's domain is reached at, and the token scope of a repository.
import { InvalidParameterError } from '../errdefs';
import type { ImageReference } from '../wire/reference';
import type { AuthConfig } from '../wire/distribution';

/** Decodes Docker's X-Registry-Auth header (base64url JSON of an AuthConfig); empty or "{}" means anonymous. */
export function decodeRegistryAuth(header: string | string[] | undefined): AuthConfig {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return {};
  try {
    const parsed = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? checkAuthConfig(parsed, 'invalid X-Registry-Auth header') : {};
  } catch (err) {
    if (err instanceof InvalidParameterError) throw err;
    throw new InvalidParameterError('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
}

/** An AuthConfig whose fields are strings (null as absent), as Go's decoder insists: `{"username": 5}` is refused. */
export function checkAuthConfig(v: object, what: string): AuthConfig {
  if (Array.isArray(v)) throw new InvalidParameterError(`${what}: expected a JSON AuthConfig object`);
  for (const [k, x] of Object.entries(v)) {
    if (x !== null && x !== undefined && typeof x !== 'string' && ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'].includes(k)) {
      throw new InvalidParameterError(`${what}: json: cannot unmarshal ${Array.isArray(x) ? 'array' : typeof x} into Go struct field AuthConfig.${k} of type string`);
    }
  }
  return v as AuthConfig;
}

/** A registry host[:port] a URL can be made of; anything else is the client's mistake, named. */
export function checkedRegistryHost(host: string): string {
  let ok = host !== '';
  try { ok &&= new URL(`https://${host}/`).host !== ''; } catch { ok = false; }
  if (!ok) throw new InvalidParameterError(`invalid registry address ${JSON.stringify(host)}: expected a host name or address with an optional port`);
  return host;
}

/** The host the engine talks to for a reference's domain (Docker Hub's API lives elsewhere than its name). */
export function registryHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : checkedRegistryHost(domain);
}

/** The repository as the registry names it, and the scope strings for a token. */
export function scopeOf(ref: ImageReference, actions: string): string {
  return `repository:${ref.path}:${actions}`;
}
