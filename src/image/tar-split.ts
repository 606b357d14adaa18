// A pulled layer's tar kept as a record instead of a copy: its header and padding bytes raw, each regular file's
// payload named by where unpack wrote it; regenerate() gives back the exact tar, verified against the diff ID.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type * as tar from 'tar-stream';
import { NotFoundError, SystemError, errorMessage } from '../errdefs';

/** The record's directory inside a layer's directory (beside diff/). */
export const TAR_SPLIT_DIR = 'tar-split';
const SEGMENTS = 'segments.json';
const RAW = 'raw';
const STASH = 'stash';
const FORMAT_VERSION = 1;
const READ_CHUNK = 1 << 20;

/**
 * The tar in order: a number is that many bytes taken from the raw file (headers, PAX and GNU long-name
 * records, padding, the end blocks, and any payload unpack did not write to a file); [path, size] is a
 * file's payload, read from `path` (relative to the layer's directory).
 */
type Segment = number | [string, number];

interface SegmentsFile {
  version: number;
  diffId: string;
  size: number;
  segments: Segment[];
}

type Header = tar.Header & { byteOffset?: number };

/** Whether tar-stream hands this entry's payload out as a stream (it skips nothing else: see its extract.js). */
function streamsPayload(h: Header): boolean {
  return h.size > 0 && h.type !== 'directory';
}

/**
 * Builds the record while unpack runs, in the same pass. `tap` goes in the pipeline just before the tar parser
 * (it sees exactly the bytes the parser does); `entry()` is called from the parser's 'entry' event with where
 * unpack will write the payload (or null); `written()` once unpack wrote it; `beforeRemove()` before unpack
 * removes anything (a later entry replacing an earlier one moves the earlier payload aside, it stays readable).
 */
export class TarSplitRecorder {
  readonly dir: string;
  private readonly rawOut: fs.WriteStream;
  private readonly segments: Segment[] = [];
  /** Written payloads' segments by where the files are now (relative to the layer directory). */
  private readonly refs = new Map<string, [string, number][]>();
  /** Segments whose payload the parser met and unpack has not written yet, in order. */
  private readonly unconfirmed: [string, number][] = [];
  private stashed = 0;
  /** Stream bytes seen by the tap, and bytes [0, dispatched) already written raw or skipped. */
  private seen = 0;
  private dispatched = 0;
  private queue: Buffer[] = [];
  /** Bytes below this are classified: raw unless inside `skip`. */
  private classified = 0;
  private skip: { start: number; end: number } | null = null;
  /** End of the last segment pushed. */
  private segmentEnd = 0;
  private failed: Error | null = null;

  constructor(private readonly layerDir: string) {
    this.dir = path.join(layerDir, TAR_SPLIT_DIR);
    // Once per layer, before the first byte: a synchronous mkdir keeps the constructor simple.
    fs.mkdirSync(path.join(this.dir, STASH), { recursive: true });
    this.rawOut = fs.createWriteStream(path.join(this.dir, RAW), { flags: 'wx' });
    this.rawOut.on('error', (err) => { this.failed ??= err; });
  }

  /** The pass-through to put just before the tar parser. */
  tap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) => {
        this.queue.push(chunk);
        this.seen += chunk.length;
        this.dispatch();
        if (this.failed) { cb(this.failed); return; }
        // The raw file's backpressure (a hostile tar's big unreferenced payloads go there) holds the pipeline.
        if (!this.rawOut.writableNeedDrain) { cb(null, chunk); return; }
        const resume = () => {
          this.rawOut.off('drain', resume).off('error', resume);
          cb(this.failed, this.failed ? undefined : chunk);
        };
        this.rawOut.on('drain', resume).on('error', resume);
      },
    });
  }

  /** The parser met an entry; `payloadAt` is where unpack will write its payload ("a/b" under diff/), or null. */
  entry(h: Header, payloadAt: string | null): void {
    if (typeof h.byteOffset !== 'number') {
      this.failed ??= new SystemError('tar-split: the tar parser does not report entry offsets');
      return;
    }
    this.classified = Math.max(this.classified, h.byteOffset);
    if (streamsPayload(h) && payloadAt !== null) {
      const ref = path.join('diff', payloadAt);
      if (h.byteOffset > this.segmentEnd) this.segments.push(h.byteOffset - this.segmentEnd);
      const seg: [string, number] = [ref, h.size];
      this.segments.push(seg);
      this.segmentEnd = h.byteOffset + h.size;
      this.skip = { start: h.byteOffset, end: this.segmentEnd };
      this.classified = this.segmentEnd;
      this.unconfirmed.push(seg);
    } else if (streamsPayload(h)) {
      this.classified = h.byteOffset + h.size;
    }
    this.dispatch();
  }

  /** Unpack wrote an entry's payload to `rel` under diff/ (it must be the one recorded next). */
  written(h: Header, rel: string): void {
    if (!streamsPayload(h)) return;
    const ref = path.join('diff', rel);
    const seg = this.unconfirmed.shift();
    if (seg?.[0] !== ref) {
      this.failed ??= new SystemError(`tar-split: unpack wrote ${rel}, not the payload recorded next`);
      return;
    }
    const list = this.refs.get(ref);
    if (list) list.push(seg);
    else this.refs.set(ref, [seg]);
  }

  /** Unpack is about to remove `rel` (and what is below it): written payloads there are moved aside first. */
  async beforeRemove(rel: string): Promise<void> {
    const prefix = path.join('diff', rel);
    for (const [ref, segs] of [...this.refs]) {
      if (ref !== prefix && !ref.startsWith(prefix + '/')) continue;
      const aside = path.join(TAR_SPLIT_DIR, STASH, String(this.stashed++));
      await fsp.rename(path.join(this.layerDir, ref), path.join(this.layerDir, aside));
      this.refs.delete(ref);
      for (const s of segs) s[0] = aside;
      this.refs.set(aside, segs);
    }
  }

  /** The tar ended: writes the record. `diffId` and `size` are the whole stream's, as unpack hashed it. */
  async finish(diffId: string, size: number): Promise<void> {
    this.classified = Infinity;
    this.dispatch();
    if (this.seen !== size) this.failed ??= new SystemError(`tar-split: saw ${this.seen} of ${size} bytes`);
    if (this.unconfirmed.length) this.failed ??= new SystemError(`tar-split: the payload of ${this.unconfirmed[0]![0]} was not written`);
    if (size > this.segmentEnd) this.segments.push(size - this.segmentEnd);
    await this.close();
    if (this.failed) throw this.failed;
    const record: SegmentsFile = { version: FORMAT_VERSION, diffId, size, segments: this.segments };
    await fsp.writeFile(path.join(this.dir, SEGMENTS), JSON.stringify(record));
  }

  /** Closes the raw file (after a failure too). */
  async close(): Promise<void> {
    if (this.rawOut.closed) return;
    await new Promise<void>((resolve) => this.rawOut.end(() => resolve()));
  }

  /** Writes out (or drops, inside a referenced payload) what is classified at the head of the queue. */
  private dispatch(): void {
    while (this.queue.length && this.dispatched < this.classified) {
      const head = this.queue[0]!;
      let n: number;
      let keep: boolean;
      if (this.skip && this.dispatched >= this.skip.start && this.dispatched < this.skip.end) {
        n = Math.min(head.length, this.skip.end - this.dispatched);
        keep = false;
      } else {
        const limit = this.skip && this.skip.start > this.dispatched ? this.skip.start : this.classified;
        n = Math.min(head.length, limit - this.dispatched);
        keep = true;
      }
      if (keep) this.rawOut.write(n === head.length ? head : head.subarray(0, n));
      this.dispatched += n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
  }
}

/**
 * The layer's tar regenerated from its record and unpacked files, hashed as it streams: a file of another size
 * fails at once, a different content fails before the last bytes go out, so a consumer never sees a whole
 * tar that is not the layer's. Errors name the layer.
 */
export function regenerate(layerDir: string, what: string): Readable {
  const fail = (why: string) => new SystemError(`layer ${what}: its tar cannot be regenerated from the unpacked files: ${why}`);
  async function* produce(): AsyncGenerator<Buffer> {
    let record: SegmentsFile;
    try {
      record = JSON.parse(await fsp.readFile(path.join(layerDir, TAR_SPLIT_DIR, SEGMENTS), 'utf8')) as SegmentsFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`layer ${what}: no tar record`);
      throw fail(errorMessage(err));
    }
    if (record.version !== FORMAT_VERSION) throw fail(`unknown record version ${record.version}`);
    const hash = createHash('sha256');
    let total = 0;
    let held: Buffer | null = null;
    const raw = await fsp.open(path.join(layerDir, TAR_SPLIT_DIR, RAW), 'r');
    try {
      for (const seg of record.segments) {
        const [fh, size, name] = typeof seg === 'number' ? [raw, seg, 'raw'] : [await openPayload(layerDir, seg[0], fail), seg[1], seg[0]];
        try {
          if (fh !== raw) {
            const st = await fh.stat();
            if (st.size !== size) throw fail(`${name} is ${st.size} bytes, the tar had ${size}`);
          }
          for (let left = size; left > 0; ) {
            const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
            const { bytesRead } = await fh.read(buf, 0, buf.length, fh === raw ? null : size - left);
            if (bytesRead === 0) throw fail(`${name} ended early`);
            const chunk = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
            hash.update(chunk);
            total += bytesRead;
            left -= bytesRead;
            if (held) yield held;
            held = chunk;
          }
        } finally {
          if (fh !== raw) await fh.close();
        }
      }
    } finally {
      await raw.close();
    }
    const digest = 'sha256:' + hash.digest('hex');
    if (digest !== record.diffId || total !== record.size) throw fail(`got ${digest} (${total} bytes), expected ${record.diffId} (${record.size} bytes)`);
    if (held) yield held;
  }
  return Readable.from(produce(), { objectMode: false });
}

async function openPayload(layerDir: string, rel: string, fail: (why: string) => Error): Promise<fsp.FileHandle> {
  // Only under the layer directory, never through a symlink at the last step.
  const abs = path.join(layerDir, rel);
  if (!abs.startsWith(layerDir + '/')) throw fail(`bad payload path ${rel}`);
  try {
    return await fsp.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    throw fail(`${rel}: ${errorMessage(err)}`);
  }
}
