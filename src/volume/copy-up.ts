// Copy-up: an empty volume mounted over a directory of the image gets that directory's content, owners, modes and
// times (moby's copyExistingContents + copyOwnership), once, before the container first runs.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DeviceNode, SpecialFiles } from '../host/special-files';

/** Whether `dir` has no entries (a missing directory counts as empty). */
export async function isEmptyDir(dir: string): Promise<boolean> {
  const d = await fsp.opendir(dir).catch(() => undefined);
  if (!d) return true;
  try {
    return (await d.read()) === null;
  } finally {
    await d.close().catch(() => undefined);
  }
}

/**
 * Copies the tree under `source` into the empty directory `dest`, then gives `dest` the owner and mode of `source`.
 * Symlinks are copied as links (never followed), hard links stay linked, device nodes and fifos are made through
 * `special`; sockets are skipped, as they mean nothing without their process.
 */
export async function copyUp(source: string, dest: string, special?: SpecialFiles): Promise<void> {
  const links = new Map<string, string>();
  const nodes: DeviceNode[] = [];
  const nodeStats: import('node:fs').Stats[] = [];
  const dirs: { path: string; st: import('node:fs').Stats }[] = [];

  async function copyEntry(from: string, to: string): Promise<void> {
    const st = await fsp.lstat(from);
    if (st.isDirectory()) {
      await fsp.mkdir(to, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
      for (const name of await fsp.readdir(from)) await copyEntry(path.join(from, name), path.join(to, name));
      dirs.push({ path: to, st });
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && links.has(key)) {
      await fsp.link(links.get(key)!, to);
      return;
    }
    if (st.isSymbolicLink()) {
      await fsp.symlink(await fsp.readlink(from), to);
    } else if (st.isFile()) {
      await fsp.copyFile(from, to);
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      if (!special) return;
      const rdev = st.rdev;
      nodes.push({
        path: to, type: st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : 'b',
        major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00)), mode: st.mode & 0o7777,
      });
      nodeStats.push(st);
      return;
    } else {
      return;
    }
    await setAttrs(to, st);
    if (st.nlink > 1) links.set(key, to);
  }

  for (const name of await fsp.readdir(source)) await copyEntry(path.join(source, name), path.join(dest, name));
  if (nodes.length && special) {
    await special.mknod(nodes);
    for (let i = 0; i < nodes.length; i++) await setAttrs(nodes[i]!.path, nodeStats[i]!);
  }
  // Directories last, deepest first, so their times survive the entries written into them.
  for (const d of dirs) await setAttrs(d.path, d.st);
  await setAttrs(dest, await fsp.stat(source));
}

async function setAttrs(p: string, st: import('node:fs').Stats): Promise<void> {
  await fsp.lchown(p, st.uid, st.gid);
  if (!st.isSymbolicLink()) {
    // chown clears set-id bits, so the mode goes after it.
    await fsp.chmod(p, st.mode & 0o7777);
    await fsp.utimes(p, st.atime, st.mtime);
  } else {
    await fsp.lutimes(p, st.atime, st.mtime).catch(() => undefined);
  }
}
