// Extracts a tar (build context, ADD archive) into a directory as if chrooted there: every path is resolved with
// the directory as "/", so neither ".." nor a symlink (from the tar or already present) can lead outside it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidParameterError, errorMessage } from '../errdefs';
import { decompressWithTool } from '../host/decompress';
import { resolveInRoot } from '../host/rootfs';
import { cleanEntryPath, detectCompression, gunzip, type Compression } from '../image/unpack';
import { peek } from '../util/streams';

export interface ExtractOptions {
  /** Keep the tar's uid/gid (ADD of an archive); otherwise everything belongs to the daemon's user (root). */
  keepOwnership: boolean;
  /** Called with each entry's clean relative path before it is written; return false to skip it. */
  filter?: (rel: string, type: string) => boolean;
  /**
   * What the directory holds from an earlier extraction into it (a build context's directory is reused): files
   * that are unchanged are left as they are, and what the new tar lacks is removed. Updated to what this
   * extraction leaves; `populated` stays false when it fails (the directory is then in no known state).
   */
  tree?: ExtractedTree;
}

/** A regular file as an extraction left it: its content's sha256, and the identity that shows it untouched since. */
export interface ExtractedFile {
  digest: string;
  mode: number;
  mtimeMs: number;
  owner: string;
  ino: number;
  size: number;
  /** Any write, chmod, chown or utimes moves the ctime to now, and no call sets it back: a changed ctime means changed. */
  ctimeMs: number;
}

/** The regular files of an extracted tree by their real path relative to its root. */
export class ExtractedTree {
  files = new Map<string, ExtractedFile>();
  populated = false;

  /** Bytes of file content the tree holds. */
  get bytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.size;
    return n;
  }

  /** The recorded digest of `rel` if `st` (an lstat of it now) shows the same file, untouched since it was written. */
  digestOf(rel: string, st: fs.Stats): string | undefined {
    const f = this.files.get(rel);
    return f && sameFile(f, st) ? f.digest : undefined;
  }
}

function sameFile(f: ExtractedFile, st: fs.Stats): boolean {
  return st.isFile() && st.ino === f.ino && st.size === f.size && st.ctimeMs === f.ctimeMs && (st.mode & 0o7777) === f.mode;
}

/** The stream decompressed by its magic bytes (gzip, bzip2, xz, zstd, or none), and what it was. */
export async function decompressAny(source: Readable): Promise<{ kind: Compression; stream: Readable }> {
  const { head, stream } = await peek(source, 6);
  const kind = detectCompression(head);
  if (kind === 'none') return { kind, stream };
  if (kind === 'gzip') return { kind, stream: gunzip(stream) };
  return { kind, stream: decompressWithTool(kind, stream) };
}

/** True when the bytes start like a tar header (ustar magic, or an old-style header whose checksum adds up). */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  const magic = head.toString('latin1', 257, 262);
  if (magic === 'ustar') return true;
  const stored = parseInt(head.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return sum === stored;
}

/**
 * Completes a tar that stops right after an entry's data or at a header boundary, without its padding or its two
 * zero blocks, as Go's archive/tar accepts it: the docker CLI sends such a tar for `docker build -f - dir`. A tar
 * cut inside a header or inside an entry's data is left as it is, to fail as truncated.
 */
export class TarTerminator extends Transform {
  private total = 0;
  /** Offset of the next header block, and the end of the current entry's data (before its padding). */
  private nextHeader = 0;
  private dataEnd = 0;
  private header = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let pos = 0;
    while (pos < chunk.length) {
      const at = this.total + pos;
      if (at < this.nextHeader) { pos += Math.min(chunk.length - pos, this.nextHeader - at); continue; }
      const take = Math.min(512 - this.header.length, chunk.length - pos);
      this.header = Buffer.concat([this.header, chunk.subarray(pos, pos + take)]);
      pos += take;
      if (this.header.length === 512) {
        const size = headerSize(this.header);
        this.dataEnd = this.nextHeader + 512 + size;
        this.nextHeader += 512 + Math.ceil(size / 512) * 512;
        this.header = Buffer.alloc(0);
      }
    }
    this.total += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const atBoundary = this.header.length === 0 && this.total === this.nextHeader;
    const afterData = this.header.length === 0 && this.total >= this.dataEnd && this.total < this.nextHeader;
    if (atBoundary || afterData) done(null, Buffer.alloc(this.nextHeader - this.total + 1024));
    else done();
  }
}

/** An entry's size from its header: octal, or base-256 when the first byte's high bit is set. */
function headerSize(h: Buffer): number {
  const field = h.subarray(124, 136);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const n = parseInt(field.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Regular files up to this size are buffered and written in one go. */
const SMALL_FILE = 1 << 20;

async function readAll(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of entry) chunks.push(c as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Extracts `input` (a tar, compression detected) into the existing directory `root`. */
export async function extractTar(input: Readable, root: string, opts: ExtractOptions): Promise<void> {
  const { stream } = await decompressAny(input);
  const extract = tar.extract();
  const feeding = pipeline(stream, new TarTerminator(), extract);
  feeding.catch(() => { /* surfaced below */ });
  const dirTimes: { abs: string; mtime: Date }[] = [];
  // Resolved parent directories, valid until an entry makes or removes a symlink or replaces a directory.
  const parents = new Map<string, string>();
  const resolveParent = async (rel: string): Promise<string> => {
    if (rel === '') return root;
    let abs = parents.get(rel);
    if (abs === undefined) {
      if (reuse) await clearWay(rel);
      abs = await resolveInRoot(root, rel);
      await fsp.mkdir(abs, { recursive: true, mode: 0o755 });
      if (tree) markSeen(realRel(abs));
      parents.set(rel, abs);
    }
    return abs;
  };
  // Small regular files (most of a build context) are read into memory and written with synchronous calls: one
  // at a time through the thread pool, the extraction waits on each open, write, chmod, utimes and close in turn
  // (5x slower for a typical context). The event loop gets a turn every few milliseconds all the same.
  let lastYield = performance.now();
  // Reusing a tree: `seen` holds the real relative paths this tar made (and the directories on the way), so that
  // what is left over from the earlier tar can be told apart, moved out of the way and, at the end, removed.
  const tree = opts.tree;
  const reuse = tree?.populated === true;
  const previous = tree?.files ?? new Map<string, ExtractedFile>();
  const next = new Map<string, ExtractedFile>();
  const seen = new Set<string>();
  if (tree) tree.populated = false;
  const realRel = (abs: string) => path.relative(root, abs);
  const markSeen = (rel: string) => {
    for (let p = rel; p && p !== '.' && !seen.has(p); p = path.posix.dirname(p)) seen.add(p);
  };
  /**
   * Before a parent directory is resolved in a reused tree: leftovers of the earlier tar on the way (a file or a
   * symlink where this tar wants a directory) are removed, so the result is what a fresh directory would hold.
   * Walks one component at a time through real directories only, so no lstat follows a link; a symlink this tar
   * made is followed by reading it (as resolveInRoot would, "/" and ".." kept inside the root).
   */
  const clearWay = async (rel: string, hops = 0): Promise<void> => {
    const parts = rel.split('/').filter((p) => p && p !== '.');
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const step = cur ? `${cur}/${parts[i]}` : parts[i]!;
      const abs = path.join(root, step);
      const st = await fsp.lstat(abs).catch(() => undefined);
      if (!st) return;
      if (st.isDirectory()) { cur = step; continue; }
      if (!seen.has(step)) {
        await fsp.rm(abs, { recursive: true, force: true });
        parents.clear();
        return;
      }
      if (!st.isSymbolicLink() || hops >= 40) return; // this tar's own file in the way: fail as a fresh tree would
      const target = await fsp.readlink(abs);
      const joined = path.posix.normalize(path.posix.join('/', target.startsWith('/') ? '' : cur, target)).replace(/^\/+/, '');
      return clearWay([joined, ...parts.slice(i + 1)].join('/'), hops + 1);
    }
  };
  const named = (h: tar.Header, err: unknown) => {
    if (err instanceof InvalidParameterError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    return code ? new InvalidParameterError(`cannot extract ${JSON.stringify(h.name)}: ${errorMessage(err)}`) : err;
  };
  try {
    for await (const entry of extract) {
      const h = entry.header;
      try {
        const type = h.type ?? 'file';
        if ((type === 'file' || type === 'contiguous-file') && (h.size ?? 0) <= SMALL_FILE) {
          await writeSmallFile(h, await readAll(entry));
          if (performance.now() - lastYield > 5) {
            await new Promise((r) => setImmediate(r));
            lastYield = performance.now();
          }
          continue;
        }
        await extractEntry(entry, h);
      } catch (err) {
        entry.resume();
        throw named(h, err);
      }
    }
    await feeding;
    if (reuse) await sweep('');
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => undefined);
    if (err instanceof Error && !(err instanceof InvalidParameterError) && /tar header|end of data|unexpected end|decompression failed|incorrect header|invalid/i.test(err.message)) {
      throw new InvalidParameterError(`invalid tar archive: ${err.message}`);
    }
    throw err;
  }
  for (const d of dirTimes.reverse()) await fsp.utimes(d.abs, d.mtime, d.mtime).catch(() => undefined);
  if (tree) {
    tree.files = next;
    tree.populated = true;
  }

  /** Removes what the earlier tar left and this one did not make. */
  async function sweep(rel: string): Promise<void> {
    const entries = await fsp.readdir(rel ? path.join(root, rel) : root, { withFileTypes: true });
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (!seen.has(child)) await fsp.rm(path.join(root, child), { recursive: true, force: true });
      else if (e.isDirectory()) await sweep(child);
    }
  }

  /** Records a regular file just written (or found unchanged) at `target`. */
  function record(target: string, digest: string, h: tar.Header, st: fs.Stats): void {
    next.set(realRel(target), {
      digest, mode: (h.mode ?? 0o644) & 0o7777, mtimeMs: (h.mtime ?? new Date(0)).getTime(), owner: ownerOf(h),
      ino: st.ino, size: st.size, ctimeMs: st.ctimeMs,
    });
  }

  function ownerOf(h: tar.Header): string {
    return opts.keepOwnership ? `${h.uid ?? 0}:${h.gid ?? 0}` : '';
  }

  /** A regular file from memory: created exclusively (never through a symlink), mode, owner and mtime set. */
  async function writeSmallFile(h: tar.Header, data: Buffer): Promise<void> {
    const parts = cleanEntryPath(h.name, true);
    const rel = parts.join('/');
    if (!parts.length) return;
    if (opts.filter && !opts.filter(rel, h.type ?? 'file')) return;
    const dir = await resolveParent(parts.slice(0, -1).join('/'));
    const target = path.join(dir, parts[parts.length - 1]!);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date(0);
    const digest = tree ? createHash('sha256').update(data).digest('hex') : '';
    if (tree) {
      const real = realRel(target);
      markSeen(real);
      const prev = reuse ? previous.get(real) : undefined;
      if (prev && prev.digest === digest && prev.mode === mode && prev.mtimeMs === mtime.getTime() && prev.owner === ownerOf(h)) {
        // Synchronous, as the writes below: one lstat is cheaper than a trip through the thread pool.
        const st = fs.lstatSync(target, { throwIfNoEntry: false });
        if (st && sameFile(prev, st)) { next.set(real, prev); return; }
      }
    }
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = fs.openSync(target, flags, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // The same path again (a later entry wins), or replacing a directory or link: remove, then create.
      const existing = await fsp.lstat(target);
      await fsp.rm(target, { recursive: true, force: true });
      if (existing.isDirectory() || existing.isSymbolicLink()) parents.clear();
      fd = fs.openSync(target, flags, 0o600);
    }
    try {
      for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off);
      if (opts.keepOwnership) fs.fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
      fs.fchmodSync(fd, mode);
      fs.futimesSync(fd, mtime, mtime);
      if (tree) record(target, digest, h, fs.fstatSync(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  async function extractEntry(entry: tar.ExtractEvents['entry'][1], h: tar.Header): Promise<void> {
    const parts = cleanEntryPath(h.name, true);
    const type = h.type ?? 'file';
    const rel = parts.join('/');
    if (opts.filter && rel && !opts.filter(rel, type)) { entry.resume(); return; }
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date(0);
    const own = async (p: string) => { if (opts.keepOwnership) await fsp.lchown(p, h.uid ?? 0, h.gid ?? 0); };
    if (!parts.length) {
      entry.resume();
      if (type === 'directory') { await own(root); await fsp.chmod(root, mode); dirTimes.push({ abs: root, mtime }); }
      return;
    }
    const dir = await resolveParent(parts.slice(0, -1).join('/'));
    const target = path.join(dir, parts[parts.length - 1]!);
    if (tree) markSeen(realRel(target));
    const existing = await fsp.lstat(target).catch(() => undefined);
    if (existing && !(existing.isDirectory() && type === 'directory')) {
      await fsp.rm(target, { recursive: true, force: true });
      if (existing.isDirectory() || existing.isSymbolicLink()) parents.clear();
    }
    switch (type) {
      case 'directory':
        entry.resume();
        if (!existing?.isDirectory()) await fsp.mkdir(target, { mode: 0o700 });
        await own(target);
        await fsp.chmod(target, mode);
        dirTimes.push({ abs: target, mtime });
        return;
      case 'file':
      case 'contiguous-file': {
        const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
        const out = fs.createWriteStream(target, { flags: flags as unknown as string, mode: 0o600 });
        const hash = createHash('sha256');
        try {
          if (tree) entry.on('data', (c: unknown) => { hash.update(c as Buffer); });
          await pipeline(entry, out);
        } finally {
          if (!out.closed) out.destroy();
        }
        await own(target);
        await fsp.chmod(target, mode);
        await fsp.utimes(target, mtime, mtime);
        if (tree) record(target, hash.digest('hex'), h, await fsp.lstat(target));
        return;
      }
      case 'symlink':
        entry.resume();
        if (!h.linkname) throw new InvalidParameterError(`refusing tar entry ${JSON.stringify(h.name)}: empty symlink target`);
        await fsp.symlink(h.linkname, target);
        await own(target);
        await fsp.lutimes(target, mtime, mtime);
        parents.clear();
        return;
      case 'link': {
        entry.resume();
        const linkParts = cleanEntryPath(h.linkname ?? '', true);
        if (!linkParts.length) throw new InvalidParameterError(`refusing tar entry ${JSON.stringify(h.name)}: hard link to the root`);
        const linkDir = await resolveInRoot(root, linkParts.slice(0, -1).join('/'));
        const linkAbs = path.join(linkDir, linkParts[linkParts.length - 1]!);
        const st = await fsp.lstat(linkAbs).catch(() => undefined);
        if (!st || st.isDirectory()) throw new InvalidParameterError(`refusing tar entry ${JSON.stringify(h.name)}: hard link target ${h.linkname} is missing or a directory`);
        await fsp.link(linkAbs, target);
        return;
      }
      default:
        // Devices, fifos and other special entries have no place in a build context or an ADD.
        entry.resume();
        return;
    }
  }
}
