// .dockerignore: reading the file as Docker does (moby/patternmatcher's ignorefile) and matching context paths with
// @balena/dockerignore, a port of Docker's matcher, made case-sensitive as Docker is on Linux.

import ignore from '@balena/dockerignore';
import * as path from 'node:path';
import { InvalidParameterError } from '../errdefs';

export interface DockerignoreMatcher {
  /** The cleaned patterns, `!` kept on exceptions. */
  readonly patterns: readonly string[];
  /** Whether a context path (slash-separated, relative, no leading `./`) is excluded, its parents considered. */
  ignores(relPath: string): boolean;
  /**
   * Whether a walker must still descend into an excluded directory because an exception (`!dir/keep`) may
   * re-include something under it. Docker's context walker descends only when an exception pattern starts with
   * `dir/`; an exception such as `!**\/keep` does not reach into an excluded directory, in Docker and here.
   */
  mayHaveExceptionsUnder(dir: string): boolean;
}

/** The patterns of a .dockerignore file: BOM dropped, `#` lines (at column 0) skipped, trimmed, cleaned. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern[0] === '!';
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  }
  return out;
}

/** Go's filepath.Clean on a slash path. */
function cleanPath(p: string): string {
  const c = path.posix.normalize(p);
  return c.length > 1 ? c.replace(/\/+$/, '') : c;
}

/** A matcher for patterns (from parseDockerignore, or the API's list). Throws InvalidParameterError on a bad one. */
export function dockerignoreMatcher(patterns: readonly string[]): DockerignoreMatcher {
  const cleaned: string[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === '') continue;
    p = cleanPath(p);
    if (p === '!') throw new InvalidParameterError('illegal exclusion pattern: "!"');
    cleaned.push(p);
  }
  for (const p of cleaned) {
    try {
      ignore({ ignorecase: false }).add(p.replace(/^!/, '')).ignores('.probe');
    } catch {
      throw new InvalidParameterError('syntax error in pattern');
    }
  }
  const ig = ignore({ ignorecase: false }).add(cleaned);
  const exceptions = cleaned.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return {
    patterns: cleaned,
    ignores(relPath: string): boolean {
      const p = cleanPath(relPath.replace(/^\.\/+/, ''));
      if (p === '.' || p === '') return false; // Docker never excludes the context root itself
      return ig.ignores(p);
    },
    mayHaveExceptionsUnder(dir: string): boolean {
      const d = cleanPath(dir.replace(/^\.\/+/, ''));
      if (d === '.' || d === '') return exceptions.length > 0;
      const prefix = d + '/';
      return exceptions.some((e) => (e + '/').startsWith(prefix));
    },
  };
}

/**
 * The patterns the client applies when it sends a context (the docker CLI's TrimBuildFilesFromExcludes): the
 * Dockerfile and .dockerignore are sent even when excluded, so the daemon can read them.
 */
export function patternsForUpload(patterns: readonly string[], dockerfile = 'Dockerfile'): string[] {
  const out = [...patterns];
  const m = dockerignoreMatcher(out);
  if (m.ignores('.dockerignore')) out.push('!.dockerignore');
  const df = dockerfile.replace(/\\/g, '/');
  if (m.ignores(df)) out.push('!' + df);
  return out;
}

/**
 * The files the daemon removes from a received context after reading the Dockerfile (moby's removeDockerfile):
 * .dockerignore and the Dockerfile when the context's .dockerignore excludes them, so `COPY . .` leaves them out.
 */
export function buildFilesToRemove(patterns: readonly string[], dockerfile = 'Dockerfile'): string[] {
  const m = dockerignoreMatcher(patterns);
  return ['.dockerignore', dockerfile].filter((f) => m.ignores(f));
}
