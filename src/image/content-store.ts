// Blobs by sha256 digest: written through an ingest file while hashing, verified, then committed by rename.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, NotFoundError } from '../errdefs';
import { fsyncDir } from '../store/atomic';
import { discardPartialFile } from '../store/partial-file';
import { failpoint } from '../store/failpoint';
import { isSha256Digest, isSha256Hex } from '../wire/digest';

export interface BlobInfo {
  digest: string;
  size: number;
}


export function sha256Digest(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}


/** A pass-through that hashes and counts what flows through it. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  private result: string | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = 'sha256:' + this.hash.digest('hex');
    cb();
  }

  /** Available once the stream has ended. */
  get digest(): string {
    if (this.result === undefined) throw new Error('digest read before the stream ended');
    return this.result;
  }
}

/**
 * A pass-through that fails at the end of the stream if the content does not hash to `expected`,
 * before anything downstream sees the end: a consumer that commits on end never commits bad content.
 */
export class VerifyDigestStream extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly expected: string, private readonly what = 'content') { super(); }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual = 'sha256:' + this.hash.digest('hex');
    if (actual !== this.expected) cb(new InvalidParameterError(`${this.what} digest mismatch: expected ${this.expected}, got ${actual}`));
    else cb();
  }
}

export interface PendingBlob extends BlobInfo {
  /** Renames the verified content into place (idempotent for content already present). */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
  }

  /** Partly downloaded registry blobs, by digest: a resumed pull continues them with a Range request. */
  get partialDir(): string {
    return path.join(this.ingestDir, 'partial');
  }

  /** Creates the directories and drops ingests a crash left behind (partial downloads stay, to be resumed). */
  async init(): Promise<void> {
    await fsp.mkdir(this.blobsDir, { recursive: true });
    await fsp.mkdir(this.ingestDir, { recursive: true });
    for (const name of await fsp.readdir(this.ingestDir)) {
      if (name !== 'partial') await fsp.rm(path.join(this.ingestDir, name), { recursive: true, force: true });
    }
    // A download nobody resumed within a week is dropped.
    for (const name of await fsp.readdir(this.partialDir).catch(() => [] as string[])) {
      const file = path.join(this.partialDir, name);
      const st = await fsp.stat(file).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 7 * 24 * 3600_000) await fsp.rm(file, { force: true });
    }
  }

  path(digest: string): string {
    if (!isSha256Digest(digest)) throw new InvalidParameterError(`invalid digest ${JSON.stringify(digest)}`);
    return path.join(this.blobsDir, digest.slice(7));
  }

  has(digest: string): boolean {
    return isSha256Digest(digest) && fs.existsSync(this.path(digest));
  }

  async info(digest: string): Promise<BlobInfo> {
    try {
      const st = await fsp.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  /** Streams a blob. */
  reader(digest: string): Readable {
    return fs.createReadStream(this.path(digest));
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  /**
   * Writes a stream as a blob. With `expected`, a mismatch fails with both digests named and nothing is kept.
   * The content lands under its digest only when complete and synced.
   */
  async write(source: Readable | AsyncIterable<Buffer>, expected?: string): Promise<BlobInfo> {
    const pending = await this.ingest(source, expected);
    await pending.commit();
    return { digest: pending.digest, size: pending.size };
  }

  /**
   * Streams content into the ingest area, hashing it; the caller commits (rename into place) or aborts.
   * Splitting the two lets a caller commit inside a critical section (see LocalImages's leases).
   */
  async ingest(source: Readable | AsyncIterable<Buffer>, expected?: string): Promise<PendingBlob> {
    if (expected !== undefined && !isSha256Digest(expected)) throw new InvalidParameterError(`invalid digest ${JSON.stringify(expected)}`);
    const ingest = path.join(this.ingestDir, randomBytes(8).toString('hex'));
    const hasher = new DigestStream();
    const out = fs.createWriteStream(ingest, { flags: 'wx', mode: 0o644 });
    try {
      await pipeline(source, hasher, out);
      // (A FileHandle's own write stream with autoClose:false makes FileHandle.close() hang on Node 20.)
      failpoint('ingest-written');
      const fh = await fsp.open(ingest, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = hasher.digest;
      if (expected !== undefined && digest !== expected) {
        throw new InvalidParameterError(`digest mismatch: expected ${expected}, got ${digest}`);
      }
    } catch (err) {
      await discardPartialFile(out, ingest);
      throw err;
    }
    return this.pending(ingest, hasher.digest, hasher.size, () => fsp.rm(ingest, { force: true }));
  }

  /** A written, verified ingest file whose commit renames it into place under `digest`. */
  private pending(file: string, digest: string, size: number, abort: () => Promise<void>): PendingBlob {
    const target = this.path(digest);
    return {
      digest,
      size,
      commit: async () => {
        try {
          await fsp.rename(file, target);
        } catch (err) {
          await fsp.rm(file, { force: true });
          throw err;
        }
        await fsyncDir(this.blobsDir);
        failpoint('blob-committed');
      },
      abort,
    };
  }

  async writeBytes(data: string | Uint8Array, expected?: string): Promise<BlobInfo> {
    const digest = sha256Digest(data);
    if (this.has(digest)) {
      if (expected !== undefined && digest !== expected) throw new InvalidParameterError(`digest mismatch: expected ${expected}, got ${digest}`);
      return { digest, size: Buffer.byteLength(data) };
    }
    return this.write(Readable.from([Buffer.from(data)]), expected);
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  /** Every blob digest present. */
  async list(): Promise<string[]> {
    const names = await fsp.readdir(this.blobsDir).catch(() => [] as string[]);
    return names.filter(isSha256Hex).map((n) => `sha256:${n}`);
  }
}
