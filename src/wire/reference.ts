// Image references as Docker parses them (distribution/reference): "busybox" → docker.io/library/busybox:latest; the daemon and the CLI read them here.
import { InvalidParameterError } from '../errdefs';
import { isSha256Digest, isSha256Hex } from './digest';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution/reference/regexp.go.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const tagRe = new RegExp(`^${tagPat}$`);

export const ErrReferenceInvalidFormat = 'invalid reference format';

/** A parsed, normalized image reference: domain/path with an optional tag and/or digest. */
export class ImageReference {
  constructor(
    readonly domain: string,
    readonly path: string,
    readonly tag?: string,
    readonly digest?: string,
  ) {}

  /** The repository name, fully qualified: docker.io/library/busybox. */
  get name(): string { return `${this.domain}/${this.path}`; }

  /** The repository name as users write it: busybox, bar/committed, localhost:5000/a/b. */
  get familiarName(): string {
    if (this.domain !== DEFAULT_DOMAIN) return this.name;
    if (this.path.startsWith(OFFICIAL_REPO_PREFIX) && !this.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
      return this.path.slice(OFFICIAL_REPO_PREFIX.length);
    }
    return this.path;
  }

  /** Full form: docker.io/library/busybox:latest. */
  toString(): string { return this.render(this.name); }

  /** Familiar form: busybox:latest, bar/committed:1, busybox@sha256:... */
  familiar(): string { return this.render(this.familiarName); }

  get isNameOnly(): boolean { return this.tag === undefined && this.digest === undefined; }

  /** Adds ":latest" when neither tag nor digest is given (reference.TagNameOnly). */
  withDefaultTag(): ImageReference {
    return this.isNameOnly ? new ImageReference(this.domain, this.path, 'latest') : this;
  }

  withTag(tag: string): ImageReference {
    if (!tagRe.test(tag)) throw new InvalidParameterError(ErrReferenceInvalidFormat);
    return new ImageReference(this.domain, this.path, tag);
  }

  withDigest(digest: string): ImageReference { return new ImageReference(this.domain, this.path, undefined, digest); }

  /** The repository name alone. */
  nameOnly(): ImageReference { return new ImageReference(this.domain, this.path); }

  private render(name: string): string {
    return name + (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }
}

/** Splits "host/x" from the repository path the way Docker does (splitDockerDomain). */
function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** Parses a fully qualified reference string (reference.Parse). */
function parseQualified(s: string): ImageReference {
  const m = referenceRe.exec(s);
  if (!m) {
    if (s === '') throw new InvalidParameterError('invalid reference format: repository name must have at least one component');
    if (referenceRe.test(s.toLowerCase())) throw new InvalidParameterError('invalid reference format: repository name must be lowercase');
    throw new InvalidParameterError(ErrReferenceInvalidFormat);
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidParameterError(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const slash = name.indexOf('/');
  const [domain, path] = slash === -1 ? ['', name] : [name.slice(0, slash), name.slice(slash + 1)];
  const digest = m[3];
  if (digest !== undefined) validateDigest(digest);
  return new ImageReference(domain, path, m[2], digest);
}

function validateDigest(digest: string): void {
  const [alg, hex] = digest.split(':') as [string, string];
  const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  const want = lengths[alg];
  if (want === undefined) throw new InvalidParameterError('invalid reference format: unsupported digest algorithm');
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) throw new InvalidParameterError('invalid reference format: invalid checksum digest format');
}

/**
 * Parses a name as users type it into a normalized reference (reference.ParseNormalizedNamed).
 * "busybox" → docker.io/library/busybox (no tag added; see withDefaultTag()).
 */
export function parseNormalizedNamed(s: string): ImageReference {
  if (isSha256Hex(s)) {
    throw new InvalidParameterError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const nameEnd = remainder.search(/[:@]/);
  const remote = nameEnd === -1 ? remainder : remainder.slice(0, nameEnd);
  if (remote.toLowerCase() !== remote) {
    throw new InvalidParameterError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const ref = parseQualified(`${domain}/${remainder}`);
  return ref;
}

/** parseNormalizedNamed + ":latest" when neither tag nor digest is given (reference.ParseDockerRef, keeping both). */
export function parseDockerRef(s: string): ImageReference {
  return parseNormalizedNamed(s).withDefaultTag();
}

/** Either an image ID ("sha256:<64 hex>" or 64 hex) or a named reference (reference.ParseAnyReference). */
export type AnyReference = { kind: 'id'; id: string } | { kind: 'named'; ref: ImageReference };

export function parseAnyReference(s: string): AnyReference {
  if (isSha256Hex(s)) return { kind: 'id', id: `sha256:${s}` };
  if (s.includes(':') && isSha256Digest(s)) return { kind: 'id', id: s };
  if (/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(s) && !s.includes('/')) {
    validateDigest(s);
    return { kind: 'id', id: s };
  }
  return { kind: 'named', ref: parseNormalizedNamed(s) };
}

/** Docker's repo + tag query pair (httputils.RepoTagReference) → a tagged reference. */
export function repoTagReference(repo: string, tag: string): ImageReference {
  const ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
  if (tag !== '') return ref.withTag(tag);
  return ref.withDefaultTag();
}

export function isValidTag(tag: string): boolean { return tagRe.test(tag); }

/** True when `s` is a sha256 digest "sha256:<64 hex>". */

/** The first 12 hex characters of an ID, as Docker shows them (stringid.TruncateID). */
export function truncateId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}

/**
 * Docker's reference.FamiliarMatch: a path.Match glob against the familiar string, then the familiar name.
 */
export function familiarMatch(pattern: string, ref: ImageReference): boolean {
  const re = globToRegExp(pattern);
  if (re === null) return false;
  return re.test(ref.familiar()) || re.test(ref.familiarName);
}

/** Go's path.Match syntax: '*' and '?' do not cross '/', [...] classes, '\\' escapes. */
export function globToRegExp(pattern: string): RegExp | null {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return null;
      out += escapeRe(pattern[i]!);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) return null;
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      out += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += escapeRe(c);
  }
  try {
    return new RegExp(out + '$');
  } catch {
    return null;
  }
}

function escapeRe(c: string): string { return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }
