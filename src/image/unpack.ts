// Unpacks a layer tar into a directory overlayfs can stack, refusing any entry that would escape it.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, pipeline as pipelineCb } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { InvalidParameterError, errorMessage } from '../errdefs';
import type { DeviceNode, SpecialFiles, Xattr } from '../host/special-files';
import { peek } from '../util/streams';
import { DigestStream } from './content-store';
import type { TarSplitRecorder } from './tar-split';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** The gunzipped stream; an error of either side ends it with that error. */
export function gunzip(source: Readable): Readable {
  // 1 MiB output chunks: with zlib's default 16 KiB, hashing, writing and tar parsing pay per tiny chunk.
  return pipelineCb(source, zlib.createGunzip({ chunkSize: 1 << 20 }), () => { /* errors reach the consumer */ });
}

/** The stream, decompressed when its magic bytes say gzip (as Docker's DecompressStream; others are refused). */
export async function decompress(source: Readable | AsyncIterable<Buffer>): Promise<Readable> {
  const { head, stream: raw } = await peek(source, 6);
  const kind = detectCompression(head);
  if (kind === 'none') return raw;
  if (kind === 'gzip') return gunzip(raw);
  raw.destroy();
  throw new InvalidParameterError(`unsupported compression format ${kind}`);
}

export interface UnpackOptions {
  special: SpecialFiles;
  /**
   * 'layer' (default): an image layer: whiteouts become overlayfs whiteouts, owners and devices are kept.
   * 'archive': a plain archive (docker save/load): regular files, directories and links only, no absolute
   * names, no absolute symlinks, no ownership.
   */
  mode?: 'layer' | 'archive';
  /** Records the tar as it passes (a pulled layer keeps this record instead of a copy of its tar). */
  recorder?: TarSplitRecorder;
  /** Told of each regular file's bytes as they are written to it (a pull's write-behind flushes those files). */
  onFileBytes?: (file: string, bytes: number) => void;
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: string;
  /** Length of the uncompressed tar stream. */
  tarSize: number;
  /** Bytes of content (regular files and symlinks, each inode once), as Docker counts a layer's size. */
  size: number;
}

interface DirMeta { abs: string; mtime: Date }

type TarEntry = tar.ExtractEvents['entry'][1];

function refuse(entry: string, why: string): never {
  throw new InvalidParameterError(`refusing to unpack tar entry ${JSON.stringify(entry)}: ${why}`);
}

/**
 * Splits a tar name into clean components, refusing any ".." that climbs above the root and, unless
 * `allowAbsolute`, a leading "/" (no tool Docker knows writes one; a tar that does is not to be trusted).
 */
export function cleanEntryPath(name: string, allowAbsolute: boolean): string[] {
  if (name.includes('\0')) refuse(name, 'NUL in name');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) refuse(name, 'path escapes the target directory');
      out.pop();
    } else out.push(part);
  }
  if (name.startsWith('/') && !allowAbsolute) refuse(name, 'absolute path');
  return out;
}

/** True when `p` is `dir` or lies below it (both absolute, normalized). */
function isAtOrBelow(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');
}

/** Errors of the filesystem that a malformed tar causes (a file where its entries need a directory...). */
const ENTRY_ERRORS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENOENT', 'ELOOP', 'ENAMETOOLONG', 'EINVAL', 'EPERM', 'EMLINK']);

/** True when a relative symlink target, resolved from the link's directory, stays inside the root. */
export function symlinkStaysInside(linkRel: string[], target: string): boolean {
  if (target.startsWith('/')) return true;
  let depth = linkRel.length - 1;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      depth--;
      if (depth < 0) return false;
    } else depth++;
  }
  return true;
}

/** Removes what is at `abs` (a directory is kept with `keepDir`); true if something was removed. */
async function removeExisting(abs: string, keepDir: boolean, beforeRemove?: () => Promise<void>): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = await fsp.lstat(abs);
  } catch {
    return false;
  }
  if (keepDir && st.isDirectory()) return false;
  await beforeRemove?.();
  await fsp.rm(abs, { recursive: true, force: true });
  return true;
}

function isRegularFile(type: tar.Header['type'] | null | undefined): boolean {
  return type === 'file' || type === 'contiguous-file' || type === null || type === undefined;
}

/**
 * Where unpack writes an entry's payload (its clean path under the target directory), or null when it writes
 * none (whiteouts, the root, anything not a regular file, a name it refuses): what a tar-split record references.
 */
export function payloadPath(h: tar.Header, mode: 'layer' | 'archive'): string | null {
  if (!isRegularFile(h.type)) return null;
  let parts: string[];
  try {
    parts = cleanEntryPath(h.name, false);
  } catch {
    return null;
  }
  if (!parts.length || (mode === 'layer' && parts[parts.length - 1]!.startsWith(WHITEOUT_PREFIX))) return null;
  return parts.join('/');
}

/**
 * Unpacks `source` (a tar, gzip detected) into the existing empty directory `dest`. Nothing is written
 * outside `dest`: escaping names, writes through symlinks and escaping links are refused with an
 * InvalidParameterError naming the entry.
 */
export async function unpack(source: Readable, dest: string, opts: UnpackOptions): Promise<UnpackResult> {
  const kind = opts.mode ?? 'layer';
  const layer = kind === 'layer';
  const recorder = opts.recorder;
  const rootStat = await fsp.lstat(dest);
  if (!rootStat.isDirectory()) throw new InvalidParameterError(`${dest} is not a directory`);
  // The real path: the final check below compares real paths of parents against their names under it.
  const root = await fsp.realpath(dest);

  const input = await decompress(source);
  const hasher = new DigestStream();
  const extract = tar.extract();
  // The recorder learns each entry's place in the stream as the parser meets it (before unpack handles it).
  if (recorder) extract.on('entry', (h) => recorder.entry(h, payloadPath(h, kind)));
  const feeding = recorder ? pipeline(input, hasher, recorder.tap(), extract) : pipeline(input, hasher, extract);
  feeding.catch(() => { /* surfaced below */ });
  // Rejects when the input fails: an entry the extractor destroyed before we piped it never ends on its own.
  const inputFailed = new Promise<never>((_resolve, reject) => { feeding.catch(reject); });
  inputFailed.catch(() => undefined);

  const symlinks = new Set<string>();
  const pendingNodes = new Map<string, DeviceNode & { uid: number; gid: number; mtime: Date }>();
  const xattrs: Xattr[] = [];
  const dirs: DirMeta[] = [];
  let size = 0;

  const abs = (parts: string[]) => (parts.length ? path.join(root, ...parts) : root);

  /** Refuses a path whose parent goes through a symlink this tar created; creates missing parents. */
  const prepareParent = async (entry: string, parts: string[]): Promise<void> => {
    for (let i = 1; i < parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join('/'))) refuse(entry, `parent ${parts.slice(0, i).join('/')} is a symlink`);
    }
    if (parts.length > 1) await fsp.mkdir(abs(parts.slice(0, -1)), { recursive: true, mode: 0o755 });
  };

  /** Removes what is at `rel` before an entry takes its place; what was queued for it or below goes with it. */
  const replace = async (rel: string, keepDir: boolean) => {
    const a = abs(rel.split('/'));
    pendingNodes.delete(a);
    if (await removeExisting(a, keepDir, recorder && (() => recorder.beforeRemove(rel)))) forget(rel);
  };
  const forget = (rel: string) => {
    const a = abs(rel.split('/'));
    for (const s of symlinks) if (s === rel || s.startsWith(rel + '/')) symlinks.delete(s);
    for (const p of pendingNodes.keys()) if (isAtOrBelow(p, a)) pendingNodes.delete(p);
    for (let i = xattrs.length - 1; i >= 0; i--) if (isAtOrBelow(xattrs[i]!.path, a)) xattrs.splice(i, 1);
    for (let i = dirs.length - 1; i >= 0; i--) if (isAtOrBelow(dirs[i]!.abs, a)) dirs.splice(i, 1);
  };

  /**
   * The deferred steps (mknod, xattrs, directory times) act on paths by name: refuse any whose parent is
   * no longer a real directory under the root, so they can never act through a symlink to the outside.
   */
  const checkedParents = new Map<string, boolean>();
  const parentIsReal = async (p: string): Promise<boolean> => {
    const parent = path.dirname(p);
    if (p === root) return true;
    let ok = checkedParents.get(parent);
    if (ok === undefined) {
      ok = await fsp.realpath(parent).then((r) => r === parent && isAtOrBelow(r, root), () => false);
      checkedParents.set(parent, ok);
    }
    return ok;
  };
  const guard = async (p: string): Promise<void> => {
    if (!(await parentIsReal(p))) refuse(path.relative(root, p), 'a parent directory was replaced by a link');
  };

  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name;
      try {
        await unpackEntry(entry, h, name);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code && ENTRY_ERRORS.has(code)) refuse(name, errorMessage(err));
        throw err;
      }
    }
    await feeding;
    await recorder?.finish(hasher.digest, hasher.size);

    if (pendingNodes.size) {
      const nodes = [...pendingNodes.values()];
      for (const n of nodes) await guard(n.path);
      await opts.special.mknod(nodes);
      for (const n of nodes) {
        await fsp.lchown(n.path, n.uid, n.gid);
        await fsp.lutimes(n.path, n.mtime, n.mtime);
      }
    }
    for (const a of xattrs) await guard(a.path);
    await opts.special.setXattrs(xattrs);
    // Directory times last, deepest first: creating children changed them.
    for (const d of dirs.reverse()) {
      await guard(d.abs);
      await fsp.lutimes(d.abs, d.mtime, d.mtime);
    }
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => undefined);
    await recorder?.close();
    if (err instanceof Error && !(err instanceof InvalidParameterError) && /Invalid tar header|Unexpected end of data|unexpected end/i.test(err.message)) {
      throw new InvalidParameterError(`invalid tar archive: ${err.message}`);
    }
    throw err;
  }
  return { diffId: hasher.digest, tarSize: hasher.size, size };

  async function unpackEntry(entry: TarEntry, h: tar.Header, name: string): Promise<void> {
    const parts = cleanEntryPath(name, false);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    const mtime = h.mtime ?? new Date(0);
    const base = parts[parts.length - 1] ?? '';

    // Whiteouts: Docker/OCI's tar form → overlayfs's form.
    if (layer && base.startsWith(WHITEOUT_PREFIX)) {
      entry.resume();
      await prepareParent(name, parts);
      const parent = parts.slice(0, -1);
      if (base === WHITEOUT_OPAQUE) {
        xattrs.push({ path: abs(parent), name: OVERLAY_OPAQUE_XATTR, value: Buffer.from('y') });
      } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
        const hidden = base.slice(WHITEOUT_PREFIX.length);
        if (hidden === '' || hidden === '.' || hidden === '..') refuse(name, 'invalid whiteout name');
        const target = [...parent, hidden];
        const rel = target.join('/');
        await replace(rel, false);
        pendingNodes.set(abs(target), { path: abs(target), type: 'c', major: 0, minor: 0, mode: 0, uid, gid, mtime });
      }
      return;
    }

    if (!parts.length) {
      // The root itself ("./"): take its metadata.
      entry.resume();
      if (h.type === 'directory') {
        if (layer) await fsp.lchown(root, uid, gid);
        await fsp.chmod(root, layer ? mode : 0o755);
        dirs.push({ abs: root, mtime });
      }
      return;
    }

    const rel = parts.join('/');
    const target = abs(parts);
    await prepareParent(name, parts);

    switch (h.type) {
      case 'directory': {
        entry.resume();
        await replace(rel, true);
        await fsp.mkdir(target, { recursive: true, mode: 0o700 });
        if (layer) await fsp.lchown(target, uid, gid);
        await fsp.chmod(target, layer ? mode : 0o755);
        dirs.push({ abs: target, mtime });
        break;
      }
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined: {
        await replace(rel, false);
        const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
        const out = fs.createWriteStream(target, { flags: flags as unknown as string, mode: 0o600 });
        const onFileBytes = opts.onFileBytes;
        if (onFileBytes) entry.on('data', (chunk: unknown) => onFileBytes(target, (chunk as Buffer).length));
        try {
          await Promise.race([pipeline(entry, out), inputFailed]);
        } finally {
          if (!out.closed) out.destroy();
        }
        recorder?.written(h, rel);
        // O_EXCL|O_NOFOLLOW made a fresh regular file in a directory only this unpack writes to.
        if (layer) await fsp.lchown(target, uid, gid);
        await fsp.chmod(target, layer ? mode : mode & 0o755);
        await fsp.utimes(target, mtime, mtime);
        size += h.size ?? 0;
        break;
      }
      case 'symlink': {
        entry.resume();
        const link = h.linkname ?? '';
        if (!link) refuse(name, 'empty symlink target');
        if (link.startsWith('/') && !layer) refuse(name, `absolute symlink target ${link}`);
        if (!symlinkStaysInside(parts, link)) refuse(name, `symlink target ${link} escapes the target directory`);
        await replace(rel, false);
        await fsp.symlink(link, target);
        symlinks.add(rel);
        if (layer) await fsp.lchown(target, uid, gid);
        await fsp.lutimes(target, mtime, mtime);
        size += Buffer.byteLength(link);
        break;
      }
      case 'link': {
        entry.resume();
        const linkParts = cleanEntryPath(h.linkname ?? '', false);
        if (!linkParts.length) refuse(name, 'hard link to the root');
        for (let i = 1; i <= linkParts.length; i++) {
          const prefix = linkParts.slice(0, i).join('/');
          if (i < linkParts.length && symlinks.has(prefix)) refuse(name, `hard link target ${h.linkname} goes through a symlink`);
        }
        const linkAbs = abs(linkParts);
        let st: fs.Stats;
        try {
          st = await fsp.lstat(linkAbs);
        } catch {
          refuse(name, `hard link target ${h.linkname} does not exist in the layer`);
        }
        if (st.isDirectory()) refuse(name, `hard link target ${h.linkname} is a directory`);
        if (linkAbs === target) return;
        await replace(rel, false);
        await fsp.link(linkAbs, target);
        if (symlinks.has(linkParts.join('/'))) symlinks.add(rel);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        entry.resume();
        if (!layer) refuse(name, 'device files are not allowed in an archive');
        await replace(rel, false);
        const type = h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c';
        pendingNodes.set(target, { path: target, type, major: h.devmajor ?? 0, minor: h.devminor ?? 0, mode, uid, gid, mtime });
        break;
      }
      default:
        entry.resume();
        break;
    }

    // Extended attributes carried as PAX records (e.g. security.capability).
    const pax = (h as { pax?: Record<string, string> | null }).pax;
    if (layer && pax) {
      for (const [key, value] of Object.entries(pax)) {
        // tar-stream decodes PAX values as UTF-8: a binary value that did not survive that is skipped.
        // overlayfs's own attributes would redirect lookups or fake whiteouts: only .wh. entries make those.
        if (!key.startsWith('SCHILY.xattr.') || value.includes('\uFFFD')) continue;
        const attr = key.slice(13);
        if (attr.startsWith('trusted.overlay.')) continue;
        xattrs.push({ path: target, name: attr, value: Buffer.from(value, 'utf8') });
      }
    }
  }
}
