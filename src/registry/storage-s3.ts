// The S3-compatible storage driver (AWS SDK v3): objects are keys under a prefix; a PUT or a completed multipart upload is atomic.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  UploadPartCopyCommand, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Transform } from 'node:stream';
import { storagePath, type ObjectInfo, type StorageDriver } from './storage-driver';

export interface S3Options {
  bucket: string;
  /** An S3-compatible endpoint (http://127.0.0.1:4568); AWS's own when absent. */
  endpoint?: string;
  region?: string;
  /** Key prefix every object lives under. */
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (bucket in the path), the default with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Multipart part size for streamed writes (bytes, at least 5 MiB). */
  partSize?: number;
}

/** CopyObject's single-request limit; larger objects are copied part by part. */
const COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;

export class S3Driver implements StorageDriver {
  readonly name = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(opts: S3Options) {
    const config: S3ClientConfig = {
      region: opts.region ?? 'us-east-1',
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      // Checksums only where S3 requires them: S3-compatible servers often lack the newer trailer encodings.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (opts.endpoint) config.endpoint = opts.endpoint;
    if (opts.accessKeyId && opts.secretAccessKey) config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
    this.client = new S3Client(config);
    this.bucket = opts.bucket;
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.partSize = Math.max(opts.partSize ?? 16 * 1024 * 1024, 5 * 1024 * 1024);
  }

  private key(p: string): string {
    const rel = storagePath(p).slice(1);
    return this.prefix ? (rel ? `${this.prefix}/${rel}` : this.prefix) : rel;
  }

  private dirKey(p: string): string {
    const k = this.key(p);
    return k === '' ? '' : `${k}/`;
  }

  private fromKey(key: string): string {
    return '/' + (this.prefix ? key.slice(this.prefix.length + 1) : key);
  }

  async getContent(p: string): Promise<Buffer | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async putContent(p: string, data: Buffer | string): Promise<void> {
    const body = Buffer.from(data);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(p), Body: body, ContentLength: body.length }));
  }

  async putStream(p: string, source: Readable): Promise<number> {
    let size = 0;
    let failure: unknown;
    const counter = new Transform({ transform(chunk: Buffer, _e, cb) { size += chunk.length; cb(null, chunk); } });
    // A failing source (a digest verifier) must abort the multipart upload, never complete it.
    source.on('error', (err) => { failure = err; counter.destroy(err as Error); });
    source.pipe(counter);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key(p), Body: counter },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      throw failure ?? err;
    }
    if (failure) {
      await this.delete(p).catch(() => undefined);
      throw failure;
    }
    return size;
  }

  async stat(p: string): Promise<ObjectInfo | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      return { path: storagePath(p), size: Number(out.ContentLength ?? 0), modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async reader(p: string, offset = 0, length?: number): Promise<Readable | null> {
    if (length === 0) return Readable.from([]);
    const range = offset > 0 || length !== undefined ? `bytes=${offset}-${length === undefined ? '' : offset + length - 1}` : undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p), Range: range }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * Checks once that the server groups keys by delimiter (some S3-compatible servers, s3rver among them,
   * drop prefixes nested more than one level deep); when it does not, list() scans keys instead.
   */
  async init(): Promise<void> {
    const probe = '/.berth-list-probe';
    await this.putContent(`${probe}/d/e/f`, '');
    try {
      this.scanLists = !(await this.listByDelimiter(this.dirKey(probe))).includes('d');
    } finally {
      await this.deleteKeys([this.key(`${probe}/d/e/f`)]);
    }
  }

  private scanLists = false;

  async list(dir: string): Promise<string[]> {
    const prefix = this.dirKey(dir);
    const names = this.scanLists ? await this.listByScan(prefix) : await this.listByDelimiter(prefix);
    return names.filter(Boolean).sort();
  }

  private async listByDelimiter(prefix: string): Promise<string[]> {
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const c of out.CommonPrefixes ?? []) if (c.Prefix) names.add(c.Prefix.slice(prefix.length).replace(/\/$/, ''));
      for (const o of out.Contents ?? []) if (o.Key && o.Key !== prefix) names.add(o.Key.slice(prefix.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return [...names];
  }

  /** Lists keys in order and, at each sub-directory, skips past everything below it ("~" sorts after every path character used). */
  private async listByScan(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter }));
      const keys = (out.Contents ?? []).map((o) => o.Key!).filter((k) => k && k !== prefix);
      if (!keys.length) break;
      let jumped = false;
      for (const key of keys) {
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash === -1) {
          names.push(rest);
          startAfter = key;
          continue;
        }
        names.push(rest.slice(0, slash));
        startAfter = `${prefix}${rest.slice(0, slash)}/~`;
        jumped = true;
        break;
      }
      if (!jumped && !out.IsTruncated) break;
    }
    return [...new Set(names)];
  }

  async *walk(dir: string): AsyncIterable<ObjectInfo> {
    const prefix = this.dirKey(dir);
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        yield { path: this.fromKey(o.Key), size: Number(o.Size ?? 0), modified: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async move(from: string, to: string): Promise<void> {
    const src = await this.stat(from);
    if (!src) throw Object.assign(new Error(`${from}: not found`), { code: 'ENOENT' });
    const source = `${this.bucket}/${encodeURI(this.key(from))}`;
    if (src.size <= COPY_LIMIT) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.key(to), CopySource: source }));
    } else {
      await this.copyMultipart(source, this.key(to), src.size);
    }
    await this.deleteKeys([this.key(from)]);
  }

  private async copyMultipart(source: string, key: string, size: number): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        const end = Math.min(start + COPY_PART, size) - 1;
        const out = await this.client.send(new UploadPartCopyCommand({
          Bucket: this.bucket, Key: key, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}`,
        }));
        parts.push({ ETag: out.CopyPartResult!.ETag!, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  async delete(p: string): Promise<void> {
    const keys = [this.key(p)];
    for await (const o of this.walk(p)) keys.push(this.key(o.path));
    await this.deleteKeys(keys);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
