// Reads files inside a container's root filesystem without ever following a symlink out of it.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

const MAX_SYMLINKS = 40;

/**
 * Resolves `p` as the container would see it, with `root` as "/": symlinks (absolute or relative) are followed
 * but clamped to the root, so the result always lies inside `root`. Missing trailing components are allowed.
 */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const parts = p.split('/').filter((s) => s && s !== '.');
  const resolved: string[] = [];
  let followed = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let target: string | undefined;
    try {
      const st = await fsp.lstat(candidate);
      if (st.isSymbolicLink()) target = await fsp.readlink(candidate);
    } catch {
      // Missing: keep the name, the caller decides what a missing file means.
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++followed > MAX_SYMLINKS) throw new Error(`too many levels of symbolic links resolving ${p}`);
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((s) => s && s !== '.'));
  }
  return path.join(root, ...resolved);
}

export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(await resolveInRoot(root, p), 'utf8');
  } catch {
    return undefined;
  }
}

/** Creates a directory inside the root (as `mkdir -p` would in the container), e.g. the working directory. */
export async function mkdirInRoot(root: string, p: string, mode = 0o755): Promise<void> {
  const target = await resolveInRoot(root, p);
  await fsp.mkdir(target, { recursive: true, mode });
}
