// A container's overlay upper dir as Docker sees it: the `docker diff` list, and the layer tar `docker commit` stores.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { HostSpecialFiles, type SpecialFiles } from '../host/special-files';
import { OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './unpack';

/** Docker's change kinds (archive.ChangeType). */
export const enum ChangeKind { Modify = 0, Add = 1, Delete = 2 }

export interface Change {
  Path: string;
  Kind: ChangeKind;
}

interface WalkEntry {
  /** Path relative to the root, without a leading slash. */
  rel: string;
  abs: string;
  st: fs.Stats;
  /** A mount point on another filesystem than the walk's own (see TreeScope.dev): listed, its content left out. */
  foreign?: boolean;
}

/** What a walk takes in besides its root. */
export interface TreeScope {
  /** What stands in for an entry (by its path below the walked root): a container's mount there, as it sees it. */
  mounted?: MountedAt;
  /**
   * The device of the walked tree's own filesystem (a running container's root seen through its mount namespace,
   * where /proc, /sys, /dev, tmpfs, volumes and binds are mounted): an entry on another device that `mounted` did
   * not put there is listed as a stub (a directory without its content, a file without its bytes), as the
   * container's root filesystem has it under the mount. Below what `mounted` put there, anything goes.
   */
  dev?: number;
}

/**
 * Depth-first, names in byte order, parents before children (as Go's filepath.Walk), within `scope`.
 */
async function* walk(dir: string, rel = '', scope: TreeScope = {}): AsyncGenerator<WalkEntry> {
  const names = (await fsp.readdir(dir)).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const mountedAbs = scope.mounted?.(childRel);
    const abs = mountedAbs ?? path.join(dir, name);
    const st = await fsp.lstat(abs);
    const foreign = mountedAbs === undefined && scope.dev !== undefined && st.dev !== scope.dev;
    yield { rel: childRel, abs, st, ...(foreign ? { foreign } : {}) };
    if (st.isDirectory() && !foreign) yield* walk(abs, childRel, mountedAbs === undefined ? scope : { mounted: scope.mounted });
  }
}

/** The host path mounted over `rel` (a path below the walked root), if something is. */
export type MountedAt = (rel: string) => string | undefined;

export function devMajor(rdev: number): number { return Math.floor(rdev / 256) & 0xfff; }
export function devMinor(rdev: number): number { return (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00); }

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

async function opaqueDirs(upperDir: string, special: SpecialFiles): Promise<Set<string>> {
  const root = path.resolve(upperDir);
  const found = await special.listXattrs(root, `^${OVERLAY_OPAQUE_XATTR.replace(/\./g, '\\.')}$`);
  const out = new Set<string>();
  for (const [p, attrs] of found) {
    const v = attrs.get(OVERLAY_OPAQUE_XATTR);
    if (v && v.toString() === 'y') out.add(p === root ? '' : path.relative(root, p));
  }
  return out;
}

async function lstatOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch {
    return null;
  }
}

function sameFsTime(a: fs.Stats, b: fs.Stats): boolean {
  if (a.mtimeMs === b.mtimeMs) return true;
  const as = Math.floor(a.mtimeMs / 1000);
  const bs = Math.floor(b.mtimeMs / 1000);
  return as === bs && (a.mtimeMs % 1000 === 0 || b.mtimeMs % 1000 === 0);
}

/**
 * The changes of an overlay upper dir against its lower dirs, as `docker diff` lists them
 * (moby's archive.OverlayChanges): whiteouts and opaque directories that hid something are deletions,
 * paths present below are modifications, the rest additions; parents of additions and deletions are
 * listed as modified.
 */
export async function changes(upperDir: string, lowerDirs: readonly string[], special: SpecialFiles = new HostSpecialFiles()): Promise<Change[]> {
  const opaque = await opaqueDirs(upperDir, special);
  const out: Change[] = [];
  const changedDirs = new Set<string>();
  for await (const e of walk(upperDir)) {
    const p = '/' + e.rel;
    let kind: ChangeKind | null = null;
    if (isWhiteout(e.st)) kind = ChangeKind.Delete;
    else if (e.st.isDirectory() && opaque.has(e.rel)) {
      for (const lower of lowerDirs) {
        if (await lstatOrNull(path.join(lower, e.rel))) { kind = ChangeKind.Delete; break; }
      }
    }
    if (kind === null) {
      kind = ChangeKind.Add;
      let skip = false;
      for (const lower of lowerDirs) {
        const ls = await lstatOrNull(path.join(lower, e.rel));
        if (!ls) continue;
        if (ls.isDirectory() && e.st.isDirectory() && ls.size === e.st.size && ls.mode === e.st.mode && sameFsTime(ls, e.st)) skip = true;
        kind = ChangeKind.Modify;
        break;
      }
      if (skip) continue;
    }
    if (e.st.isDirectory()) changedDirs.add(p);
    if (kind === ChangeKind.Add || kind === ChangeKind.Delete) {
      const parent = path.posix.dirname(p);
      if (parent !== '/' && !changedDirs.has(parent)) {
        out.push({ Path: parent, Kind: ChangeKind.Modify });
        changedDirs.add(parent);
      }
    }
    out.push({ Path: p, Kind: kind });
  }
  return out;
}

export type TarHeader = Parameters<tar.Pack['entry']>[0];

/**
 * Adds one entry to a tar-stream pack and waits until it is written: `content` is a buffer, or a file
 * streamed from disk (header.size must be its length); regular files without content get an empty body.
 */
export async function addTarEntry(pack: tar.Pack, header: TarHeader, content?: Buffer | string | { file: string } | { open: () => Readable }): Promise<void> {
  if (content !== undefined && typeof content === 'object' && ('file' in content || 'open' in content)) {
    const entry = pack.entry(header);
    await new Promise<void>((resolve, reject) => {
      const src: Readable = 'file' in content ? fs.createReadStream(content.file) : content.open();
      // A pack closed by its consumer (a client gone mid-download) never drains: stop reading, fail.
      const onPackClose = () => { src.destroy(); reject(new Error('archive stream closed')); };
      pack.once('close', onPackClose);
      const settle = () => pack.off('close', onPackClose);
      src.on('error', (err: Error) => { settle(); entry.destroy(err); reject(err); });
      entry.on('error', (err) => { settle(); reject(err); });
      entry.on('finish', () => { settle(); resolve(); });
      src.on('data', (chunk: Buffer) => { if (!entry.write(chunk as Buffer)) { src.pause(); entry.once('drain', () => src.resume()); } });
      src.on('end', () => (entry as unknown as { end(): void }).end());
    });
    return;
  }
  const isFile = header.type === undefined || header.type === 'file' || header.type === 'contiguous-file';
  const body = content !== undefined ? content : isFile ? Buffer.alloc(0) : undefined;
  await new Promise<void>((resolve, reject) => {
    if (body !== undefined) pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
    else pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}
type HeaderFor = (e: WalkEntry) => TarHeader[] | null;

/** A tar of the tree under `root`, entries sorted, only mtimes kept (reproducible); `convert` may rewrite headers. */
function packTree(root: string, convert?: (e: WalkEntry, h: TarHeader) => TarHeader[], as?: string, scope: TreeScope = {}): Readable {
  const pack = tar.pack();
  const seenInodes = new Map<string, string>();
  const headerFor: HeaderFor = (e) => {
    const st = e.st;
    const base: TarHeader = { name: e.rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) return [{ ...base, name: e.rel + '/', type: 'directory' }];
    if (st.isSymbolicLink()) return [{ ...base, type: 'symlink', linkname: fs.readlinkSync(e.abs) }];
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = seenInodes.get(key);
        if (first !== undefined) return [{ ...base, type: 'link', linkname: first }];
        seenInodes.set(key, e.rel);
      }
      return [{ ...base, type: 'file', size: e.foreign ? 0 : st.size }];
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return [{ ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) }];
    }
    if (st.isFIFO()) return [{ ...base, type: 'fifo' }];
    return null; // sockets are not archived
  };
  const produce = async () => {
    const entries = as === undefined ? walk(root, '', scope) : named(root, as, scope);
    for await (const e of entries) {
      const headers = headerFor(e);
      if (!headers) continue;
      for (const h of convert ? convert(e, headers[0]!) : headers) {
        await addTarEntry(pack, h, h.type === 'file' && (h.size ?? 0) > 0 ? { file: e.abs } : undefined);
      }
    }
    pack.finalize();
  };
  produce().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack, { objectMode: false });
}

export interface LayerTarOptions {
  /**
   * Seconds since the epoch: every mtime later than this is written as this (SOURCE_DATE_EPOCH, for
   * reproducible builds). Absent: mtimes as they are, truncated to seconds (docker commit).
   */
  clampMtime?: number;
  /** Leaves an entry (and, for a directory, what is below it) out of the tar: runtime mount-point stubs. */
  exclude?: (rel: string, st: fs.Stats) => boolean;
}

/**
 * The layer tar of a container's changes: overlayfs whiteouts (char 0:0) become `.wh.<name>` files and
 * opaque directories get a `.wh..wh..opq` entry, as moby's overlay whiteout converter writes them.
 */
export async function layerTarFromUpper(upperDir: string, special: SpecialFiles = new HostSpecialFiles(), opts: LayerTarOptions = {}): Promise<Readable> {
  const opaque = await opaqueDirs(upperDir, special);
  const clamp = opts.clampMtime;
  const excluded: string[] = [];
  return packTree(upperDir, (e, h) => {
    if (opts.exclude) {
      if (excluded.some((x) => e.rel.startsWith(x + '/'))) return [];
      if (opts.exclude(e.rel, e.st)) { excluded.push(e.rel); return []; }
    }
    if (clamp !== undefined && h.mtime && h.mtime.getTime() > clamp * 1000) h = { ...h, mtime: new Date(clamp * 1000) };
    if (isWhiteout(e.st)) {
      const dir = path.posix.dirname(e.rel);
      const name = (dir === '.' ? '' : dir + '/') + WHITEOUT_PREFIX + path.posix.basename(e.rel);
      return [{ name, type: 'file', mode: 0o600, uid: h.uid, gid: h.gid, mtime: h.mtime, size: 0 }];
    }
    if (e.st.isDirectory() && opaque.has(e.rel)) {
      return [h, { name: `${e.rel}/${WHITEOUT_OPAQUE}`, type: 'file', mode: (h.mode ?? 0) & 0o777, uid: h.uid, gid: h.gid, mtime: new Date(0), size: 0 }];
    }
    return [h];
  });
}

/** `abs` itself under the name `as`, then (a directory) its tree with names below `as`. */
async function* named(abs: string, as: string, scope: TreeScope): AsyncGenerator<WalkEntry> {
  const st = await fsp.lstat(abs);
  const foreign = scope.dev !== undefined && st.dev !== scope.dev;
  yield { rel: as, abs, st, ...(foreign ? { foreign } : {}) };
  if (!st.isDirectory() || foreign) return;
  for await (const e of walk(abs, '', scope)) yield { ...e, rel: `${as}/${e.rel}` };
}

/**
 * A tar of one file, link or directory tree, its entries named from `as` (docker cp's archive GET); `scope.mounted`
 * (by path below `abs`) puts a container's mounts inside the tree in place of what they cover. With `scope.dev`,
 * `abs` itself is on that device unless it was a mount's source (then the caller leaves `dev` out).
 */
export function tarPathAs(abs: string, as: string, scope: TreeScope = {}): Readable {
  return packTree(abs, undefined, as, scope);
}

/** A tar of a whole directory (a container's root filesystem, for `docker export`), kept to device `dev` if given. */
export function tarDirectory(dir: string, dev?: number): Readable {
  return packTree(dir, undefined, undefined, dev === undefined ? {} : { dev });
}
