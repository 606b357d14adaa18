// Image references as the docker CLI handles them before sending, read with the daemon's grammar (wire/reference):
// "busybox" is docker.io/library/busybox; a bad name fails here with distribution's words, as in docker.
import { parseNormalizedNamed } from '../wire/reference';

export interface ParsedReference {
  /** Fully qualified repository name, e.g. docker.io/library/busybox. */
  repository: string;
  /** The registry host, for credentials. */
  domain: string;
  tag?: string;
  digest?: string;
}

/** reference.ParseNormalizedNamed: "host:5000/ns/name:tag@sha256:..." with docker.io/library/ added where docker adds it. */
export function parseReference(ref: string): ParsedReference {
  const r = parseNormalizedNamed(ref);
  return { repository: r.name, domain: r.domain, tag: r.tag, digest: r.digest };
}

/** The registry host a reference lives on (for credentials). */
export function registryOf(ref: string): string {
  return parseReference(ref).domain;
}

/** reference.FamiliarString(TagNameOnly(ref)): "busybox" → "busybox:latest". */
export function familiarWithTag(ref: string): string {
  return parseNormalizedNamed(ref).withDefaultTag().familiar();
}
