// Reads files inside a container's root filesystem without ever following a symlink out of it.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../errdefs';

const MAX_SYMLINKS = 40;

export interface ContainerPath {
  /** Where the path lives on the host: under the rootfs, or under a mount's source. */
  hostPath: string;
  /** The path inside the container, with every symlink resolved (or the last one kept, without followLast). */
  containerPath: string;
}

/**
 * Resolves `p` as the container sees it: symlinks followed inside the container's view (absolute ones from its
 * root), and a mount's source standing in for everything at and below its destination. The host path is always
 * inside `root` or inside a mount's source: `..` never climbs above the container's root. Missing components are
 * allowed (the caller decides what a missing file means).
 */
export async function resolveInContainer(
  root: string, mounts: { destination: string; source: string }[], p: string, followLast = true,
): Promise<ContainerPath> {
  const table = mounts.map((m) => ({ parts: m.destination.split('/').filter(Boolean), source: m.source }))
    .sort((a, b) => b.parts.length - a.parts.length);
  const hostOf = (parts: string[]): string => {
    for (const m of table) {
      if (m.parts.length <= parts.length && m.parts.every((x, i) => parts[i] === x)) return path.join(m.source, ...parts.slice(m.parts.length));
    }
    return path.join(root, ...parts);
  };
  const pending = p.split('/').filter((s) => s && s !== '.');
  const resolved: string[] = [];
  let followed = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = [...resolved, part];
    let target: string | undefined;
    if (followLast || pending.length) {
      try {
        const st = await fsp.lstat(hostOf(candidate));
        if (st.isSymbolicLink()) target = await fsp.readlink(hostOf(candidate));
      } catch {
        // Missing: keep the name.
      }
    }
    if (target === undefined) { resolved.push(part); continue; }
    if (++followed > MAX_SYMLINKS) throw new InvalidParameterError(`too many levels of symbolic links resolving ${p}`);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((s) => s && s !== '.'));
  }
  return { hostPath: hostOf(resolved), containerPath: '/' + resolved.join('/') };
}

/**
 * Resolves `p` as the container would see it, with `root` as "/" and nothing mounted: symlinks (absolute or
 * relative) are followed but clamped to the root, so the result always lies inside `root`.
 */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  return (await resolveInContainer(root, [], p)).hostPath;
}

/** A small file (/etc/passwd) is read in one read of this size: three thread-pool round trips, not readFile's five. */
const SMALL_READ = 64 * 1024;

export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    const fh = await fsp.open(await resolveInRoot(root, p), 'r');
    try {
      const buf = Buffer.allocUnsafe(SMALL_READ);
      const { bytesRead } = await fh.read(buf, 0, SMALL_READ, null);
      if (bytesRead < SMALL_READ) return buf.toString('utf8', 0, bytesRead);
      // Decoded whole: a character whose bytes straddle the first block must not be decoded in two halves.
      return Buffer.concat([buf, await fh.readFile()]).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** Creates a directory inside the root (as `mkdir -p` would in the container), e.g. the working directory. */
export async function mkdirInRoot(root: string, p: string, mode = 0o755): Promise<void> {
  const target = await resolveInRoot(root, p);
  await fsp.mkdir(target, { recursive: true, mode });
}
