// Image references as the docker CLI handles them before sending: "busybox" is
// docker.io/library/busybox:latest; familiar names drop the defaults again for display.

export interface ParsedReference {
  /** Fully qualified repository name, e.g. docker.io/library/busybox. */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';

/** Splits "host:5000/ns/name:tag@sha256:..." and adds docker.io/library/ where docker would. */
export function parseReference(ref: string): ParsedReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  return { repository: qualify(rest), tag, digest };
}

function qualify(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return name;
  if (slash < 0) return `${DEFAULT_REGISTRY}/library/${name}`;
  return `${DEFAULT_REGISTRY}/${name}`;
}

/** The registry host a reference lives on (for credentials). */
export function registryOf(ref: string): string {
  const repo = parseReference(ref).repository;
  return repo.slice(0, repo.indexOf('/'));
}

/** reference.FamiliarString(TagNameOnly(ref)): "busybox" → "busybox:latest". */
export function familiarWithTag(ref: string): string {
  const p = parseReference(ref);
  let name = p.repository;
  if (name.startsWith(`${DEFAULT_REGISTRY}/library/`)) name = name.slice(`${DEFAULT_REGISTRY}/library/`.length);
  else if (name.startsWith(`${DEFAULT_REGISTRY}/`)) name = name.slice(`${DEFAULT_REGISTRY}/`.length);
  if (p.digest) return `${name}${p.tag ? `:${p.tag}` : ''}@${p.digest}`;
  return `${name}:${p.tag ?? 'latest'}`;
}
