// COPY and ADD on files: sources found (wildcards, Go's filepath.Match), checksummed for the cache (content and
// the metadata that reaches the layer), and copied into a root filesystem with Docker's destination rules.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../errdefs';
import { parseGroup, parsePasswd } from '../wire/passwd';
import { readFileInRoot, resolveInRoot } from '../host/rootfs';
import { peek } from '../util/streams';
import { decompressAny, extractTar, looksLikeTar } from './untar';

export interface Owner { uid: number; gid: number }

export interface CopyOptions {
  /** Owner of everything copied; undefined keeps the source's (COPY --from without --chown). */
  owner?: Owner;
  /** --chmod: the mode of every file and directory copied. */
  chmod?: number;
}

/** Does a path contain Go filepath.Match wildcards (an escaped character does not count)? */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Go's filepath.Match compiled to a RegExp over slash-separated paths ("*" never crosses "/"). */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^' || pattern[j] === '!') { cls += '^'; j++; }
      while (j < pattern.length && pattern[j] !== ']') {
        const c = pattern[j]!;
        if (c === '\\' && j + 1 < pattern.length) { cls += '\\' + pattern[j + 1]; j += 2; continue; }
        cls += c === '-' ? '-' : c.replace(/[\]\\^]/g, '\\$&');
        j++;
      }
      if (j >= pattern.length) throw new InvalidParameterError(`syntax error in pattern: ${pattern}`);
      re += `[${cls}]`;
      i = j;
    } else if (ch === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Relative paths under `root` that match a wildcard pattern, in walk order (names sorted, parents first). */
export async function matchWildcard(root: string, pattern: string): Promise<string[]> {
  const re = globRegExp(pattern);
  const depth = pattern.split('/').length;
  const out: string[] = [];
  const walk = async (rel: string, level: number): Promise<void> => {
    const names = (await fsp.readdir(rel ? path.join(root, rel) : root, { withFileTypes: true }).catch(() => [])).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of names) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (re.test(child)) out.push(child);
      // A pattern of N components matches paths of exactly N components: no need to look deeper.
      if (e.isDirectory() && level + 1 < depth) await walk(child, level + 1);
    }
  };
  await walk('', 0);
  return out;
}

interface WalkedEntry { rel: string; abs: string; st: fs.Stats }

/**
 * `abs` and, for a directory, everything below it, names sorted; overlay whiteouts (char 0:0) are skipped. The
 * lstats are synchronous (each a few microseconds; through the thread pool each costs a round trip), with a turn
 * for the event loop every few milliseconds.
 */
async function* walkTree(abs: string, rel = '', clock = { lastYield: performance.now() }): AsyncGenerator<WalkedEntry> {
  const st = fs.lstatSync(abs);
  yield { rel, abs, st };
  if (!st.isDirectory()) return;
  const names = (await fsp.readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const childAbs = path.join(abs, name);
    const cst = fs.lstatSync(childAbs);
    if (cst.isCharacterDevice() && cst.rdev === 0) continue;
    if (performance.now() - clock.lastYield > 5) {
      await new Promise((r) => setImmediate(r));
      clock.lastYield = performance.now();
    }
    yield* walkTree(childAbs, rel ? `${rel}/${name}` : name, clock);
  }
}

/** sha256 of a file: a small one read in one synchronous call (through a stream it waits on four thread-pool trips). */
async function fileDigest(abs: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= 1 << 20) h.update(fs.readFileSync(abs));
  else for await (const chunk of fs.createReadStream(abs)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface HashOptions {
  /** The source's owners reach the layer (COPY --from without --chown): they are part of the checksum. */
  ownership: boolean;
  /** mtimes as the layer will store them (clamped), so a touched file with the same content still hits. */
  mtime: (st: fs.Stats) => number;
  /** A file's sha256 when it is already known for the file `st` describes (the context's unpacking recorded it). */
  knownDigest?: (abs: string, st: fs.Stats) => string | undefined;
}

/**
 * The checksum of a source as Docker's classic builder names it in the history: "file:<sha256>" for a file,
 * "dir:<sha256>" for a directory tree. It covers content, names, types, modes, sizes, link targets and the
 * mtimes and owners as they will be written.
 */
export async function hashSource(abs: string, o: HashOptions): Promise<string> {
  const top = await fsp.stat(abs);
  const lines: string[] = [];
  for await (const e of walkTree(abs)) {
    const st = e.st;
    const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
    const content = st.isFile() ? (o.knownDigest?.(e.abs, st) ?? await fileDigest(e.abs, st.size)) : st.isSymbolicLink() ? await fsp.readlink(e.abs) : '';
    const owner = o.ownership ? `${st.uid}:${st.gid}` : '';
    lines.push([e.rel, type, (st.mode & 0o7777).toString(8), owner, st.isFile() ? st.size : 0, o.mtime(st), content].join('\0'));
  }
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex');
  return `${top.isDirectory() ? 'dir' : 'file'}:${digest}`;
}

/** Resolves --chown's "user[:group]" (names or numbers) against the destination's /etc/passwd and /etc/group. */
export async function resolveChown(spec: string, root: string): Promise<Owner> {
  const parts = spec.split(':');
  if (parts.length > 2) throw new InvalidParameterError(`invalid chown string format: ${spec}`);
  const userStr = parts[0]!;
  const groupStr = parts.length === 2 ? parts[1]! : parts[0]!;
  const numeric = (s: string) => /^\d+$/.test(s);
  let uid: number;
  let gid: number;
  if (numeric(userStr)) uid = Number(userStr);
  else {
    const entry = parsePasswd(await readFileInRoot(root, '/etc/passwd')).find((p) => p.name === userStr);
    if (!entry) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${userStr}: no such user: ${userStr}`);
    uid = entry.uid;
  }
  if (numeric(groupStr)) gid = Number(groupStr);
  else {
    const entry = parseGroup(await readFileInRoot(root, '/etc/group')).find((g) => g.name === groupStr);
    if (!entry) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${groupStr}: no such group: ${groupStr}`);
    gid = entry.gid;
  }
  return { uid, gid };
}

/** Resolves a destination ("/abs" or relative to WORKDIR; a trailing "/" kept) to an absolute container path. */
export function normalizeDest(workingDir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = path.posix.join('/', workingDir || '/', dest);
  return dest.endsWith('/') && !joined.endsWith('/') ? joined + '/' : joined;
}

/** mkdir -p inside `root` ("/" is the root); directories it creates get `owner` (moby's MkdirAllAndChown, only new). */
async function mkdirAll(root: string, containerPath: string, owner?: Owner): Promise<string> {
  const parts = containerPath.split('/').filter((p) => p && p !== '.');
  let cur = '';
  let abs = root;
  for (const part of parts) {
    cur += '/' + part;
    abs = await resolveInRoot(root, cur);
    const st = await fsp.stat(abs).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) throw new InvalidParameterError(`cannot create directory ${cur}: a file of that name exists`);
      continue;
    }
    await fsp.mkdir(abs, { mode: 0o755 });
    await fsp.chmod(abs, 0o755);
    if (owner) await fsp.lchown(abs, owner.uid, owner.gid);
  }
  return abs;
}

/** Is the file a tar archive, plain or compressed (moby's IsArchivePath: what ADD unpacks)? */
export async function isArchive(abs: string): Promise<boolean> {
  const st = await fsp.stat(abs).catch(() => undefined);
  if (!st?.isFile() || st.size === 0) return false;
  try {
    const { stream } = await decompressAny(fs.createReadStream(abs));
    const { head, stream: rest } = await peek(stream, 512);
    rest.destroy();
    return looksLikeTar(head);
  } catch {
    return false;
  }
}

/** Removes whatever is at `abs` unless it is a directory that `keepDir` allows to merge into. */
async function clearFor(abs: string, keepDir: boolean): Promise<fs.Stats | undefined> {
  const st = await fsp.lstat(abs).catch(() => undefined);
  if (!st) return undefined;
  if (keepDir && st.isDirectory()) return st;
  await fsp.rm(abs, { recursive: true, force: true });
  return undefined;
}

/** Copies a file, symlink or tree from `src` to `dst` (host paths, `dst` inside the rootfs already resolved). */
async function copyEntry(src: string, dst: string, o: CopyOptions, links: Map<string, string>, isTop: boolean): Promise<void> {
  const st = await fsp.lstat(src);
  const owner = o.owner ?? { uid: st.uid, gid: st.gid };
  const mode = o.chmod ?? (st.mode & 0o7777);
  if (st.isDirectory()) {
    const existing = await clearFor(dst, true);
    if (!existing) await fsp.mkdir(dst, { mode: 0o700 });
    // A directory that was there keeps its owner and mode when it is the destination itself (moby's fixPermissions).
    if (!existing || !isTop) {
      await fsp.lchown(dst, owner.uid, owner.gid);
      await fsp.chmod(dst, mode);
    }
    const names = (await fsp.readdir(src)).sort();
    for (const name of names) {
      const child = path.join(src, name);
      const cst = await fsp.lstat(child);
      if (cst.isCharacterDevice() && cst.rdev === 0) continue;
      await copyEntry(child, path.join(dst, name), o, links, false);
    }
    if (!existing || !isTop) await fsp.utimes(dst, st.atime, st.mtime);
    return;
  }
  await clearFor(dst, false);
  if (st.isSymbolicLink()) {
    await fsp.symlink(await fsp.readlink(src), dst);
    await fsp.lchown(dst, owner.uid, owner.gid);
    await fsp.lutimes(dst, st.atime, st.mtime);
    return;
  }
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) { await fsp.link(first, dst); return; }
      links.set(key, dst);
    }
    await fsp.copyFile(src, dst, fs.constants.COPYFILE_FICLONE);
    await fsp.lchown(dst, owner.uid, owner.gid);
    await fsp.chmod(dst, mode);
    await fsp.utimes(dst, st.atime, st.mtime);
  }
  // Sockets, fifos and devices are not copied (Docker's CopyWithTar archives no sockets; devices need mknod).
}

export interface CopyRequest {
  /** The source on the host (symlinks already followed in its own scope). */
  src: string;
  /** The name the source was given, for the file name at a directory destination. */
  name: string;
  /** The destination as an absolute container path; a trailing "/" means "into this directory". */
  dest: string;
  /** ADD: unpack a local tar archive instead of copying it. */
  unpackArchive: boolean;
}

/** One source of COPY/ADD into `root` (moby's performCopyForInfo). */
export async function copyInto(root: string, req: CopyRequest, o: CopyOptions): Promise<void> {
  const st = await fsp.stat(req.src).catch(() => undefined);
  if (!st) throw new InvalidParameterError(`source path not found: ${req.name}`);
  if (st.isDirectory()) {
    const destDir = req.dest.replace(/\/+$/, '') || '/';
    if (destDir !== '/') await mkdirAll(root, path.posix.dirname(destDir), o.owner);
    const target = destDir === '/' ? root : await resolveInRoot(root, destDir);
    await copyEntry(req.src, target, o, new Map(), true);
    return;
  }
  if (req.unpackArchive && (await isArchive(req.src))) {
    const destAbs = await mkdirAll(root, req.dest, o.owner);
    await extractTar(fs.createReadStream(req.src), destAbs, { keepOwnership: true });
    return;
  }
  let destPath = req.dest;
  const resolved = await resolveInRoot(root, destPath.replace(/\/+$/, '') || '/');
  const existing = await fsp.stat(resolved).catch(() => undefined);
  if (existing?.isDirectory() || req.dest.endsWith('/')) destPath = path.posix.join(destPath, path.posix.basename(req.name));
  await mkdirAll(root, path.posix.dirname(destPath), o.owner);
  const target = await resolveInRoot(root, destPath);
  await copyEntry(req.src, target, o, new Map(), true);
}
