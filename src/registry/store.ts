// The registry's content model over a storage driver: blobs by digest, repositories linking to them, uploads, manifests, tags, referrers.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { KeyedMutex } from '../util/mutex';
import { ChunkGatherer } from '../util/streams';
import type { ReferrerDescriptor } from '../wire/distribution';
import { MediaTypes } from '../wire/oci';
import {
  RegistryError, assertSha256, detectMediaType, isValidName, isValidTag, parseManifest, type ParsedManifest,
} from './manifests';
import { isSha256Digest, isSha256Hex } from '../wire/digest';
import { storagePath, type StorageDriver } from './storage-driver';

/**
 * The layout is the reference registry's (distribution 2.x), so its tools read a Berth root and the other
 * way round; only the insides of `_uploads` and `_referrers` are Berth's own.
 */
export const ROOT = '/docker/registry/v2';
const CHUNK_NAME_WIDTH = 16;
const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * Upload states kept in memory at most, the least recently used dropped first: uploads that are started and
 * never finished would otherwise hold theirs for as long as the server runs. A dropped one is rebuilt from
 * storage if its upload goes on (its hash re-read from the chunks at the end).
 */
export const MAX_UPLOAD_SESSIONS = 1024;

export const paths = {
  blobData: (digest: string) => storagePath(ROOT, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data'),
  blobDir: (digest: string) => storagePath(ROOT, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7)),
  blobsRoot: () => storagePath(ROOT, 'blobs', 'sha256'),
  repositories: () => storagePath(ROOT, 'repositories'),
  repo: (name: string) => storagePath(ROOT, 'repositories', name),
  layerLink: (name: string, digest: string) => storagePath(ROOT, 'repositories', name, '_layers', 'sha256', digest.slice(7), 'link'),
  layersDir: (name: string) => storagePath(ROOT, 'repositories', name, '_layers', 'sha256'),
  revisionLink: (name: string, digest: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'revisions', 'sha256', digest.slice(7), 'link'),
  revisionsDir: (name: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'revisions', 'sha256'),
  revisionDir: (name: string, digest: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'revisions', 'sha256', digest.slice(7)),
  tagsDir: (name: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'tags'),
  tagDir: (name: string, tag: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'tags', tag),
  tagCurrent: (name: string, tag: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'tags', tag, 'current', 'link'),
  tagIndex: (name: string, tag: string, digest: string) => storagePath(ROOT, 'repositories', name, '_manifests', 'tags', tag, 'index', 'sha256', digest.slice(7), 'link'),
  uploadsDir: (name: string) => storagePath(ROOT, 'repositories', name, '_uploads'),
  upload: (name: string, id: string) => storagePath(ROOT, 'repositories', name, '_uploads', id),
  uploadStarted: (name: string, id: string) => storagePath(ROOT, 'repositories', name, '_uploads', id, 'startedat'),
  uploadChunks: (name: string, id: string) => storagePath(ROOT, 'repositories', name, '_uploads', id, 'chunks'),
  uploadChunk: (name: string, id: string, offset: number) => storagePath(ROOT, 'repositories', name, '_uploads', id, 'chunks', String(offset).padStart(CHUNK_NAME_WIDTH, '0')),
  referrersDir: (name: string, subject: string) => storagePath(ROOT, 'repositories', name, '_referrers', 'sha256', subject.slice(7)),
  referrer: (name: string, subject: string, digest: string) => storagePath(ROOT, 'repositories', name, '_referrers', 'sha256', subject.slice(7), digest.slice(7)),
};

interface Chunk { offset: number; size: number }

/** What the server knows of an upload between requests: its chunks and, while it lasts, the running hash. */
interface UploadSession {
  chunks: Chunk[];
  offset: number;
  /** sha256 state over bytes [0, offset); null once lost (a restart, a failed chunk): then the chunks are re-read. */
  hash: Hash | null;
}

export interface ByteRange { start: number; end: number }

export interface StoredManifest {
  body: Buffer;
  digest: string;
  mediaType: string;
}

export interface RegistryStoreOptions {
  /** Allow deleting manifests, tags and blobs (the reference registry's storage.delete.enabled). */
  deleteEnabled?: boolean;
}

function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/**
 * A pass-through that feeds a hash (when there is one), counts bytes, and hands the upload's socket reads on in
 * 1 MiB blocks (one file write each, not sixteen).
 */
class Tee extends Transform {
  size = 0;
  private readonly gathered = new ChunkGatherer();
  constructor(private readonly hash: Hash | null) { super(); }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.size += chunk.length;
    cb(null, this.gathered.add(chunk) ? this.gathered.take() : undefined);
  }
  override _flush(cb: TransformCallback): void {
    cb(null, this.gathered.take());
  }
}

/** The bytes of `source`, failing at the end (before the consumer sees the end) when they do not hash to `expected`. */
async function* verified(source: AsyncIterable<Buffer>, expected: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
  const actual = 'sha256:' + hash.digest('hex');
  if (actual !== expected) throw new RegistryError('DIGEST_INVALID', `digest mismatch: expected ${expected}, got ${actual}`);
}

export class RegistryStore {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly locks = new KeyedMutex();
  readonly deleteEnabled: boolean;

  constructor(readonly driver: StorageDriver, opts: RegistryStoreOptions = {}) {
    this.deleteEnabled = !!opts.deleteEnabled;
  }

  // ---------- blobs ----------

  /** The size of a blob linked into `name`, or null (absent, or not in this repository). */
  async statBlob(name: string, digest: string): Promise<number | null> {
    assertSha256(digest);
    const link = await this.driver.getContent(paths.layerLink(name, digest));
    if (!link || link.toString('utf8').trim() !== digest) return null;
    const info = await this.driver.stat(paths.blobData(digest));
    return info ? info.size : null;
  }

  async blobReader(digest: string, offset?: number, length?: number): Promise<Readable> {
    const r = await this.driver.reader(paths.blobData(digest), offset, length);
    if (!r) throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    return r;
  }

  private async linkBlob(name: string, digest: string): Promise<void> {
    await this.driver.putContent(paths.layerLink(name, digest), digest);
  }

  /** Unlinks a blob from a repository (the data goes with the next garbage collection). */
  async deleteBlob(name: string, digest: string): Promise<void> {
    this.assertDelete();
    if ((await this.statBlob(name, digest)) === null) throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    await this.driver.delete(storagePath(paths.layersDir(name), digest.slice(7)));
  }

  /** Links a blob of `from` into `name`; null when `from` does not hold it (the caller starts an upload instead). */
  async mountBlob(name: string, from: string, digest: string): Promise<number | null> {
    if (!isValidName(from)) return null;
    assertSha256(digest);
    const size = await this.statBlob(from, digest);
    if (size === null) return null;
    await this.linkBlob(name, digest);
    return size;
  }

  // ---------- uploads ----------

  async startUpload(name: string): Promise<string> {
    const id = randomUUID();
    await this.driver.putContent(paths.uploadStarted(name, id), new Date().toISOString());
    this.remember(`${name}\0${id}`, { chunks: [], offset: 0, hash: createHash('sha256') });
    return id;
  }

  private remember(key: string, s: UploadSession): void {
    this.sessions.delete(key);
    this.sessions.set(key, s);
    if (this.sessions.size > MAX_UPLOAD_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  private async session(name: string, id: string): Promise<UploadSession> {
    const key = `${name}\0${id}`;
    const known = this.sessions.get(key);
    if (known) {
      this.remember(key, known);
      return known;
    }
    if (!UPLOAD_ID_RE.test(id) || !(await this.driver.stat(paths.uploadStarted(name, id)))) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `blob upload unknown to registry: ${id}`, { uuid: id });
    }
    // Rebuilt from storage (after a restart): chunks in order, contiguous; the hash is recomputed at the end.
    const chunks: Chunk[] = [];
    let offset = 0;
    for (const n of await this.driver.list(paths.uploadChunks(name, id))) {
      if (!/^\d+$/.test(n)) continue;
      const info = await this.driver.stat(paths.uploadChunk(name, id, Number(n)));
      if (!info || Number(n) !== offset) break;
      chunks.push({ offset, size: info.size });
      offset += info.size;
    }
    const s: UploadSession = { chunks, offset, hash: offset === 0 ? createHash('sha256') : null };
    this.remember(key, s);
    return s;
  }

  /** The number of bytes an upload holds (GET on the upload URL answers "Range: 0-<offset-1>"). */
  async uploadOffset(name: string, id: string): Promise<number> {
    return this.locks.run(id, async () => (await this.session(name, id)).offset);
  }

  /**
   * Appends a chunk (PATCH, or the body of the closing PUT). A chunk that does not start where the upload
   * ends is refused with 416; one that arrives incomplete is dropped whole, so the client resumes from the
   * offset the upload status reports.
   */
  async appendUpload(name: string, id: string, body: Readable, range?: ByteRange, contentLength?: number): Promise<number> {
    return this.locks.run(id, () => this.appendLocked(name, id, body, range, contentLength));
  }

  private async appendLocked(name: string, id: string, body: Readable, range?: ByteRange, contentLength?: number): Promise<number> {
    const s = await this.session(name, id);
    if (range) {
      if (range.start !== s.offset || range.end < range.start - 1) {
        body.resume();
        throw new RegistryError('BLOB_UPLOAD_INVALID', `range ${range.start}-${range.end} does not follow the ${s.offset} bytes uploaded`, { offset: s.offset }, 416);
      }
      if (contentLength !== undefined && range.end - range.start + 1 !== contentLength) {
        body.resume();
        throw new RegistryError('SIZE_INVALID', `Content-Range ${range.start}-${range.end} does not match Content-Length ${contentLength}`);
      }
    }
    if (contentLength === 0) {
      body.resume();
      return s.offset;
    }
    const hash = s.hash ? s.hash.copy() : null;
    const tee = new Tee(hash);
    const chunkPath = paths.uploadChunk(name, id, s.offset);
    // The tee's error reaches putStream's pipeline; this listener only keeps an early one from going uncaught.
    tee.on('error', () => undefined);
    body.on('error', (err) => tee.destroy(err));
    body.on('aborted', () => tee.destroy(new RegistryError('BLOB_UPLOAD_INVALID', 'upload interrupted')));
    const written = await this.driver.putStream(chunkPath, body.pipe(tee));
    const expected = range ? range.end - range.start + 1 : contentLength;
    if (expected !== undefined && written !== expected) {
      await this.driver.delete(chunkPath);
      throw new RegistryError('SIZE_INVALID', `received ${written} bytes, expected ${expected}`);
    }
    if (written === 0) {
      await this.driver.delete(chunkPath);
      return s.offset;
    }
    s.chunks.push({ offset: s.offset, size: written });
    s.offset += written;
    s.hash = hash;
    return s.offset;
  }

  /**
   * Closes an upload (PUT ?digest=): appends the body if any, verifies the digest over everything uploaded,
   * and moves the content into place. A mismatch fails with DIGEST_INVALID and the upload is discarded.
   */
  async completeUpload(name: string, id: string, digest: string, body?: Readable, range?: ByteRange, contentLength?: number): Promise<number> {
    return this.locks.run(id, async () => {
      const s = await this.session(name, id);
      try {
        assertSha256(digest);
      } catch (err) {
        body?.resume();
        throw err;
      }
      if (body && contentLength !== 0) await this.appendLocked(name, id, body, range, contentLength);
      else body?.resume();
      const actual = s.hash ? 'sha256:' + s.hash.copy().digest('hex') : await this.rehash(name, id, s);
      if (actual !== digest) {
        await this.discard(name, id);
        throw new RegistryError('DIGEST_INVALID', `digest mismatch: expected ${digest}, got ${actual}`, { digest, actual });
      }
      const target = paths.blobData(digest);
      const existing = await this.driver.stat(target);
      if (!existing) {
        if (s.chunks.length === 0) await this.driver.putContent(target, Buffer.alloc(0));
        else if (s.chunks.length === 1) await this.driver.move(paths.uploadChunk(name, id, 0), target);
        else {
          await this.driver.putStream(target, Readable.from(verified(this.chunkBytes(name, id, [...s.chunks]), digest)));
        }
      }
      await this.linkBlob(name, digest);
      await this.discard(name, id);
      return s.offset;
    });
  }

  /**
   * An upload's chunks in order. A consumer that stops early (a failed write) ends it, and the chunk being read
   * is closed with it.
   */
  private async *chunkBytes(name: string, id: string, chunks: Chunk[]): AsyncGenerator<Buffer> {
    for (const c of chunks) {
      const r = await this.driver.reader(paths.uploadChunk(name, id, c.offset));
      if (!r) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload chunk at ${c.offset} is missing`);
      for await (const buf of r) yield buf as Buffer;
    }
  }

  private async rehash(name: string, id: string, s: UploadSession): Promise<string> {
    const hash = createHash('sha256');
    for await (const buf of this.chunkBytes(name, id, s.chunks)) hash.update(buf);
    return 'sha256:' + hash.digest('hex');
  }

  private async discard(name: string, id: string): Promise<void> {
    this.sessions.delete(`${name}\0${id}`);
    await this.driver.delete(paths.upload(name, id));
  }

  async cancelUpload(name: string, id: string): Promise<void> {
    await this.locks.run(id, async () => {
      await this.session(name, id);
      await this.discard(name, id);
    });
  }

  // ---------- manifests ----------

  /** Resolves a tag or digest to a digest held by the repository, or null. */
  async resolve(name: string, reference: string): Promise<string | null> {
    if (reference.includes(':')) {
      assertSha256(reference);
      const link = await this.driver.getContent(paths.revisionLink(name, reference));
      return link ? reference : null;
    }
    if (!isValidTag(reference)) throw new RegistryError('MANIFEST_INVALID', `invalid tag ${JSON.stringify(reference)}`, { tag: reference });
    const link = await this.driver.getContent(paths.tagCurrent(name, reference));
    if (!link) return null;
    const digest = link.toString('utf8').trim();
    return (await this.driver.getContent(paths.revisionLink(name, digest))) ? digest : null;
  }

  async getManifest(name: string, reference: string): Promise<StoredManifest> {
    const digest = await this.resolve(name, reference);
    const body = digest ? await this.driver.getContent(paths.blobData(digest)) : null;
    if (!digest || !body) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`, reference.includes(':') ? { digest: reference } : { tag: reference });
    return { body, digest, mediaType: detectMediaType(body) };
  }

  /**
   * Stores a manifest under a tag or its digest: checks it (media type, JSON, digest of a by-digest PUT) and
   * that every blob and child manifest it names is in the repository (MANIFEST_BLOB_UNKNOWN otherwise).
   * Written content first, then the revision link, then the tag: a crash leaves at most unreferenced data.
   */
  async putManifest(name: string, reference: string, body: Buffer, contentType: string | undefined, extraTags: string[] = []): Promise<{ digest: string; parsed: ParsedManifest; tags: string[] }> {
    const byDigest = reference.includes(':');
    if (!byDigest && !isValidTag(reference)) throw new RegistryError('MANIFEST_INVALID', `invalid tag ${JSON.stringify(reference)}`, { tag: reference });
    if (byDigest) assertSha256(reference);
    for (const t of extraTags) if (!isValidTag(t)) throw new RegistryError('MANIFEST_INVALID', `invalid tag ${JSON.stringify(t)}`, { tag: t });
    const parsed = parseManifest(body, contentType);
    const digest = sha256(body);
    if (byDigest && reference !== digest) {
      throw new RegistryError('DIGEST_INVALID', `manifest digest ${digest} does not match ${reference}`, { digest: reference, actual: digest });
    }
    const missing: string[] = [];
    for (const b of parsed.blobs) {
      const ok = isSha256Digest(b.digest) && (await this.statBlob(name, b.digest)) !== null;
      if (!ok) missing.push(b.digest);
    }
    for (const m of parsed.manifests) {
      const ok = isSha256Digest(m.digest) && (await this.driver.getContent(paths.revisionLink(name, m.digest))) !== null;
      if (!ok) missing.push(m.digest);
    }
    if (missing.length) {
      const err = new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest blob unknown: ${missing[0]}`, { digest: missing[0] });
      (err as RegistryError & { all?: string[] }).all = missing;
      throw err;
    }
    if (!(await this.driver.stat(paths.blobData(digest)))) await this.driver.putContent(paths.blobData(digest), body);
    await this.driver.putContent(paths.revisionLink(name, digest), digest);
    if (parsed.subject && isSha256Digest(parsed.subject.digest)) {
      const entry: ReferrerDescriptor = { mediaType: parsed.mediaType, digest, size: body.length };
      if (parsed.artifactType) entry.artifactType = parsed.artifactType;
      if (parsed.annotations && Object.keys(parsed.annotations).length) entry.annotations = parsed.annotations;
      await this.driver.putContent(paths.referrer(name, parsed.subject.digest, digest), JSON.stringify(entry));
    }
    const tags = [...(byDigest ? [] : [reference]), ...extraTags];
    for (const tag of tags) {
      await this.driver.putContent(paths.tagIndex(name, tag, digest), digest);
      await this.driver.putContent(paths.tagCurrent(name, tag), digest);
    }
    return { digest, parsed, tags };
  }

  /** DELETE by tag removes the tag; by digest removes the manifest and every tag pointing at it. */
  async deleteManifest(name: string, reference: string): Promise<void> {
    this.assertDelete();
    if (!reference.includes(':')) {
      if (!isValidTag(reference)) throw new RegistryError('MANIFEST_INVALID', `invalid tag ${JSON.stringify(reference)}`, { tag: reference });
      if (!(await this.driver.getContent(paths.tagCurrent(name, reference)))) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`, { tag: reference });
      await this.driver.delete(paths.tagDir(name, reference));
      return;
    }
    assertSha256(reference);
    if (!(await this.driver.getContent(paths.revisionLink(name, reference)))) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`, { digest: reference });
    for (const tag of await this.driver.list(paths.tagsDir(name))) {
      const cur = await this.driver.getContent(paths.tagCurrent(name, tag));
      if (cur && cur.toString('utf8').trim() === reference) await this.driver.delete(paths.tagDir(name, tag));
    }
    const body = await this.driver.getContent(paths.blobData(reference));
    if (body) {
      try {
        const subject = (JSON.parse(body.toString('utf8')) as { subject?: { digest?: string } }).subject?.digest;
        if (subject && isSha256Digest(subject)) await this.driver.delete(paths.referrer(name, subject, reference));
      } catch {
        // Not JSON: no referrer entry to drop.
      }
    }
    await this.driver.delete(paths.revisionDir(name, reference));
  }

  private assertDelete(): void {
    if (!this.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'The operation is unsupported: deletion is disabled (serve with --delete)');
  }

  // ---------- discovery ----------

  async repositoryExists(name: string): Promise<boolean> {
    return (await this.driver.list(paths.repo(name))).some((n) => n.startsWith('_'));
  }

  /** Tags in Go's sort.Strings order; NAME_UNKNOWN for a repository that does not exist. */
  async tags(name: string): Promise<string[]> {
    if (!(await this.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', `repository name not known to registry: ${name}`, { name });
    const out: string[] = [];
    for (const tag of await this.driver.list(paths.tagsDir(name))) {
      if (isValidTag(tag) && (await this.driver.getContent(paths.tagCurrent(name, tag)))) out.push(tag);
    }
    return out.sort(byBytes);
  }

  /** Every repository holding manifests, in Go's sort.Strings order. */
  async repositories(): Promise<string[]> {
    return (await findRepositories(this.driver, (entries) => entries.includes('_manifests'))).filter(isValidName).sort(byBytes);
  }

  /** The manifests in `name` whose subject is `digest`, optionally of one artifactType. */
  async referrers(name: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    assertSha256(digest);
    const out: ReferrerDescriptor[] = [];
    for (const hex of await this.driver.list(paths.referrersDir(name, digest))) {
      if (!isSha256Hex(hex)) continue;
      const ref = `sha256:${hex}`;
      const raw = await this.driver.getContent(paths.referrer(name, digest, ref));
      if (!raw || !(await this.driver.getContent(paths.revisionLink(name, ref)))) continue;
      try {
        const d = JSON.parse(raw.toString('utf8')) as ReferrerDescriptor;
        if (artifactType && d.artifactType !== artifactType) continue;
        out.push(d);
      } catch {
        // A torn entry cannot exist (writes are atomic); skip anything unreadable all the same.
      }
    }
    return out;
  }
}

/**
 * The directories below repositories/ that `isRepository` takes for a repository, given their entries (a
 * repository's own entries start with "_"; the others are deeper path components, searched too).
 */
export async function findRepositories(driver: StorageDriver, isRepository: (entries: string[]) => boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const names = await driver.list(rel ? paths.repo(rel) : paths.repositories());
    if (rel && isRepository(names)) out.push(rel);
    for (const n of names) if (!n.startsWith('_')) await visit(rel ? `${rel}/${n}` : n);
  };
  await visit('');
  return out;
}

/** Go's sort.Strings: byte order. */
export function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An empty OCI index for the referrers API. */
export function referrersIndex(manifests: ReferrerDescriptor[]): { schemaVersion: 2; mediaType: string; manifests: ReferrerDescriptor[] } {
  return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
}
