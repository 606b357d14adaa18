// Whom the engine talks to: the registry host a reference's domain is reached at, and the token scope of a
// repository (X-Registry-Auth and login bodies are decoded at the API edge, api/shapes/registry.ts).
import { InvalidParameterError } from '../errdefs';
import type { ImageReference } from '../wire/reference';

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
